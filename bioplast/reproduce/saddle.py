"""Curl descent's saddle escape (Ninou, Kadmon & Cayco-Gajic 2025, Fig. 5b–f), panel by panel.

Runs :func:`bioplast.experiments.saddle.paper_figures` and judges each panel against what the
paper states: from large initial weights a tanh network with one rule-flipped readout neuron
reaches test loss 10⁻³ before GD (5b) and the advantage belongs to large initial weights (5d);
a linear network and small initial weights gain nothing (the controls).  Panels 5c, 5e and 5f
(training-set size, teacher scale, number of flipped neurons) are measured and drawn; the paper's
curves are not given as numbers, so they are reported, not judged.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import numpy as np

from bioplast.experiments import saddle as sx
from bioplast.figures import pyplot, save_png
from bioplast.io import atomic_save_npz
from bioplast.reproduce.claims import Claim, Outcome, combine

# no gain: the median speed-up within 15 % of 1 or below it — one record interval of the
# log-spaced grid is 4–8 % at 120 records over 2·10⁴ steps, so 15 % is two intervals of
# rounding on each side of the ratio, not an effect
NO_GAIN = 1.15

_LABELS = {
    "5b": "curl vs GD from large initial weights (r = 2)",
    "5c": "speed-up vs training-set size",
    "5d": "speed-up vs initial scale",
    "5e": "speed-up vs teacher scale",
    "5f": "speed-up vs number of flipped neurons",
    "linear": "control: linear network",
    "small-init": "control: small initial weights (r = 0.1)",
    "linear, free norms": "control: linear network, norms free",
    "small-init, free norms": "control: small initial weights (r = 0.1), norms free",
}
_PAPER = {
    "5b": "curl reaches 1e-3 before GD",
    "5c": "speed-up against n (curve in the paper)",
    "5d": "speed-up grows with the initial scale; none at small scales",
    "5e": "speed-up against the teacher scale (curve in the paper)",
    "5f": "speed-up against the number of flipped neurons (curve in the paper)",
    "linear": "no speed-up",
    "small-init": "no speed-up",
    "linear, free norms": "no speed-up",
    "small-init, free norms": "no speed-up",
}


def _speedups(res) -> str:
    return ", ".join(f"{v:g}: {res.speedup(i):.2f}×" for i, v in enumerate(res.values))


def _first(res, i: int) -> str:
    faster, decided = res.curl_faster(i)
    return f"curl first in {faster} of {decided} seeds, median speed-up {res.speedup(i):.2f}×"


def _decided_values(res) -> list:
    """Indices of the panel's values where GD or curl reached the threshold in some seed."""
    return [i for i in range(len(res.values)) if res.curl_faster(i)[1] > 0]


def _judge(name: str, res) -> tuple:
    """``(ours, verdict)`` of one panel.  Only values where some learner reached the threshold are
    evidence; a panel with none is not compared (the budget showed neither the effect nor its absence)."""
    decided = _decided_values(res)
    if name == "5b":
        faster, n = res.curl_faster(0)
        ok = n > 0 and faster > n / 2 and res.speedup(0) > NO_GAIN
        return _first(res, 0), "reproduced" if ok else "not reproduced"
    if name == "5d":
        gains = [res.speedup(i) for i in decided]
        small = [res.speedup(i) for i in decided if res.values[i] < 2.0]
        grows = len(gains) > 1 and gains[-1] > NO_GAIN and all(b >= a / NO_GAIN for a, b in pairwise(gains))
        none_small = bool(small) and all(not g > NO_GAIN for g in small)
        verdict = "reproduced" if grows and none_small else "partly" if grows or none_small else "not reproduced"
        return _speedups(res), verdict
    if name.startswith(("linear", "small-init")):
        ours = "; ".join(f"r = {v:g}: " + _first(res, i) for i, v in enumerate(res.values))
        if not decided:
            return ours, "not compared"
        ok = all(not res.speedup(i) > NO_GAIN for i in decided)
        return ours, "reproduced" if ok else "not reproduced"
    return _speedups(res), "not compared"


def _plot(results: dict, path: Path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    flat = list(axes.flat)
    if "5b" in results:
        res, ax = results["5b"], flat[0]
        for j, learner in enumerate(res.learners):
            curves = res.test_error[:, 0, j]
            seen = ~np.isnan(curves).all(0)  # records after every seed had stopped are NaN: not drawn
            ax.plot(res.steps[seen][1:], np.nanmedian(curves[:, seen], 0)[1:], label=learner, color=f"C{j}")
        ax.axhline(res.protocol.threshold, color="gray", ls=":", lw=1)
        ax.set(xscale="log", yscale="log", xlabel="full-batch step (= epoch)", ylabel="test loss (median)")
        ax.set_title("5b: tanh, r = 2, one flipped neuron", fontsize=9)
        ax.legend(fontsize=7, frameon=False)
    control = "linear, free norms" if "linear, free norms" in results else "linear"
    for ax, name in zip(flat[1:], ("5c", "5d", "5e", "5f", control), strict=True):
        if name not in results:
            ax.set_visible(False)
            continue
        res = results[name]
        gd, cd = res.hit[:, :, res.column("GD")], res.hit[:, :, res.column("curl")]
        x = np.array(res.values, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = gd / cd
        for s in range(ratio.shape[0]):
            ax.plot(x, ratio[s], ls="none", marker="o", ms=3, color="C1", alpha=0.4)
        ax.plot(x, [res.speedup(i) for i in range(len(x))], marker="s", color="C1", label="median t_GD / t_curl")
        ax.axhline(1, color="gray", lw=1)
        ax.set(xlabel=res.parameter, ylabel="speed-up of curl over GD", yscale="log")
        ax.set_title(f"{name}: {_LABELS[name]}", fontsize=9)
        ax.legend(fontsize=7, frameon=False)
    fig.suptitle("Saddle escape (Ninou et al. 2025, Fig. 5): points are seeds where both reached 1e-3")
    fig.tight_layout()
    save_png(fig, path)
    plt.close(fig)


QUICK = {"n_train": 300, "max_steps": 400, "records": 30}


def run(budget: str, out: Path, seed: int = 0) -> Outcome:
    quick = budget == "quick"
    results = sx.paper_figures(
        QUICK if quick else None, seeds=1 if quick else 5, figures=("5b", "linear") if quick else None, seed=seed
    )
    details, numbers = [], {}
    for name, res in results.items():
        ours, verdict = _judge(name, res)
        details.append({"part": f"{name}: {_LABELS[name]}", "paper": _PAPER[name], "ours": ours, "verdict": verdict})
        numbers[name] = res.rows()
    _plot(results, out / "saddle.png")
    atomic_save_npz(
        out / "saddle.npz",
        **{f"{name}_{key}": np.asarray(getattr(res, key)) for name, res in results.items() for key in ("hit", "steps")},
        **{f"{name}_test_error": res.test_error for name, res in results.items()},
    )
    verdict = combine(d["verdict"] for d in details)
    return Outcome(details[0]["ours"], verdict, "saddle.png", tuple(details), numbers)


CLAIM = Claim(
    name="curl-saddle",
    title="Rule-flipped readout neurons speed up escape from saddles",
    source="Ninou, Kadmon & Cayco-Gajic 2025, Fig. 5b–f",
    paper="tanh 100-10-1 from initial scale 2: curl descent reaches test loss 1e-3 before GD; "
    "no gain for a linear network or small initial weights",
    run=run,
    long=True,
    departures="full-batch steps of 0.1 instead of minibatches of 10 at 0.1·10/n (one step here is one "
    "epoch there); the norms held in every panel (the reference code holds them only in its teacher-scale "
    "runs, 5e), the controls run with norms held and free; 2,000 training samples for every panel but 5c "
    "(the paper: 10,000 in 5d and 5e); at most 20,000 epochs (the paper: 10⁵ to 2·10⁵); 5 teachers per "
    "point (the paper: 10); coarser grids",
)
