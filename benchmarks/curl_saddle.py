"""Saddle escape: does one flipped readout neuron speed up learning from large initial weights?

Ninou et al. (2025) report that in a tanh 100-10-1 network with large
initial weights, curl descent with one flipped hidden unit reaches test
error 1e-3 faster than GD in most seeds, and that the linear network and
small initial weights show no speed-up.  This runs their protocol
(:func:`bioplast.experiments.curl.saddle_escape`) at a budget a
2-core machine affords: 6 teachers, 4,000 training samples, minibatches
of 10, η = 0.02, 400,000 steps (learning time η·steps = 8,000; the paper
runs 10⁵ epochs of 10,000 samples at a per-epoch time of 0.1, i.e. 10,000),
initial scales r = 0.3 and 3, tanh and linear.  Results and plots:
``benchmarks/results/curl_saddle.{json,md,png}``.

Run:  python benchmarks/curl_saddle.py [--steps N] [--seeds S]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from common import RESULTS, markdown_table, write_report  # noqa: E402

from bioplast.experiments.curl import LEARNERS, saddle_escape  # noqa: E402
from bioplast.figures import pyplot  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=400_000)
    ap.add_argument("--seeds", type=int, default=6)
    args = ap.parse_args()
    t0 = time.perf_counter()
    results = {
        act: saddle_escape(
            act, scales=(0.3, 3.0), seeds=args.seeds, steps=args.steps, n_train=4000 if act == "tanh" else 150
        )
        for act in ("tanh", "identity")
    }
    wall = time.perf_counter() - t0
    rows = []
    for act, res in results.items():
        for i, r in enumerate(res.scales):
            faster, decided = res.curl_faster(i)
            row = {"network": act, "init_scale": r, "curl_faster": faster, "decided": decided, "seeds": args.seeds}
            for j, learner in enumerate(LEARNERS):
                hit = res.hit[:, i, j]
                row[f"{learner}_reached"] = int(np.isfinite(hit).sum())
                row[f"{learner}_median_step"] = float(np.median(hit))
                row[f"{learner}_median_final"] = float(np.median(res.test_error[:, i, j, -1]))
            rows.append(row)
            print(
                f"{act} r={r}: curl first in {faster} of {decided} seeds where either reached 1e-3; reached: "
                + ", ".join(f"{lrn} {row[f'{lrn}_reached']}/{args.seeds}" for lrn in LEARNERS)
            )
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    for a, (act, res) in enumerate(results.items()):
        for i, r in enumerate(res.scales):
            ax = axes[a, i]
            for j, learner in enumerate(LEARNERS):
                curves = res.test_error[:, i, j]
                ax.plot(res.steps[1:], np.median(curves, 0)[1:], label=learner, color=f"C{j}")
                ax.fill_between(res.steps[1:], curves.min(0)[1:], curves.max(0)[1:], color=f"C{j}", alpha=0.12)
            ax.axhline(res.threshold, color="gray", ls=":", lw=1)
            ax.set(
                xscale="log",
                yscale="log",
                title=f"{act}, initial scale r = {r}",
                xlabel="step" if a == 1 else None,
                ylabel="test error" if i == 0 else None,
            )
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("Saddle escape: median and range over seeds (dotted: 1e-3)")
    fig.tight_layout()
    fig.savefig(RESULTS / "curl_saddle.png", dpi=120)
    plt.close(fig)
    md = [
        "# Curl descent: saddle escape from large initial weights",
        "",
        f"Protocol of Ninou et al. (2025) at a reduced budget: 100-10-1, ψ = φ, inputs σ = 1/√2, minibatches of 10, "
        f"η = 0.02, {args.steps} steps (tanh: 4,000 samples; linear: 150), {args.seeds} teachers; one hidden unit's "
        "readout plasticity flipped for curl and FA + flip; every learner of a seed starts from the same weights "
        f"and sees the same minibatches. {wall:.0f} s on 2 cores.",
        "",
        "![test error curves](curl_saddle.png)",
        "",
    ]
    md += markdown_table(
        [
            ("network", "network", "s"),
            ("r", "init_scale", ".1f"),
            ("curl first (of decided)", "curl_faster", "d"),
            ("decided", "decided", "d"),
            *((f"{lrn} reached", f"{lrn}_reached", "d") for lrn in LEARNERS),
            *((f"{lrn} median final error", f"{lrn}_median_final", ".1e") for lrn in LEARNERS),
        ],
        rows,
    )
    write_report("curl_saddle", {"rows": rows, "wall_s": wall, "steps": args.steps}, md)


if __name__ == "__main__":
    main()
