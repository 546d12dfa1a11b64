"""Diehl & Cook (2015): unsupervised STDP learning of MNIST, test accuracy against presentations.

The network of :mod:`bioplast.models.diehl_cook` (Poisson inputs → N adaptive-threshold excitatory
neurons ⇄ as many inhibitory ones, STDP on the input weights, per-digit weight normalisation) is
trained pass after pass over the MNIST-5k training digits; after each pass the weights are frozen,
every neuron is labelled with the class it answers most on labelled training digits, and the test
digits are classified by vote.  The paper reports 82.9 / 87.0 / 91.9 % on full MNIST for N = 100 /
400 / 1,600 (Diehl & Cook 2015, Front. Comput. Neurosci. 9:99, Table 1).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from bioplast.data.datasets import load_mnist5k
from bioplast.figures import pyplot, save_png
from bioplast.io import atomic_write_json
from bioplast.models.diehl_cook import DiehlCook, DiehlCookConfig
from bioplast.reproduce.claims import Claim, Outcome, combine

PAPER = {100: 0.829, 400: 0.870, 1600: 0.919}
# reproduced: within 3 points of the paper.  The standard error of an accuracy near 0.85 on 1,000
# test digits is √(0.85·0.15/1000) = 1.1 points; 3 points is about 2.6 standard errors, and our
# training set (4,000 digits a pass) is 15× smaller than the paper's, which can only cost accuracy
MARGIN = 0.03


def learning_curve(n_neurons: int, passes: int, data, assign: int, seed: int, save=None) -> list:
    """Test (and labelling) accuracy after each of ``passes`` passes; labels from the first ``assign``
    training digits; ``save(rows)`` after each pass (a long run keeps what it has)."""
    model = DiehlCook(config=DiehlCookConfig(n_neurons=n_neurons), seed=seed)
    rows = []
    for p in range(1, passes + 1):
        start = time.perf_counter()
        log = model.train(data.x_train)
        r_label = model.responses(data.x_train[:assign], seed=[seed, 0])  # evaluation streams of their own
        r_test = model.responses(data.x_test, seed=[seed, 1])
        model.assign_labels(r_label, data.y_train[:assign])
        rows.append(
            {
                "n_neurons": n_neurons,
                "passes": p,
                "presentations": p * len(data.x_train),
                "test_accuracy": float((model.predict(r_test) == data.y_test).mean()),
                "label_accuracy": float((model.predict(r_label) == data.y_train[:assign]).mean()),
                "retried_digits": int((log.retries > 0).sum()),
                "seconds": round(time.perf_counter() - start, 1),
            }
        )
        if save:
            save(rows)
    return rows


def _plot(curves: dict, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for j, (n, rows) in enumerate(curves.items()):
        ax.plot([r["passes"] for r in rows], [100 * r["test_accuracy"] for r in rows], marker="o", color=f"C{j}")
        ax.plot([], [], color=f"C{j}", marker="o", label=f"N = {n}")
        if n in PAPER:
            ax.axhline(100 * PAPER[n], color=f"C{j}", ls=":", lw=1)
    ax.set(xlabel="passes over the 4,000 MNIST-5k training digits", ylabel="test accuracy (%)")
    ax.set_title("Diehl & Cook: ours (markers) and the paper on full MNIST (dotted)", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    save_png(fig, path)
    plt.close(fig)


def judge(curves: dict) -> tuple:
    """``(ours, verdict, details)``: per network size, the best pass against the paper within
    :data:`MARGIN`; sizes the paper did not report are not compared."""
    details = []
    for n, rows in curves.items():
        best = max(r["test_accuracy"] for r in rows)
        paper = PAPER.get(n)
        verdict = "not compared" if paper is None else "reproduced" if best >= paper - MARGIN else "not reproduced"
        details.append(
            {
                "part": f"N = {n}",
                "paper": "—" if paper is None else f"{100 * paper:.1f} % (full MNIST)",
                "ours": ", ".join(f"{100 * r['test_accuracy']:.1f} %" for r in rows) + f" after passes 1–{len(rows)}",
                "verdict": verdict,
            }
        )
    best = {n: max(r["test_accuracy"] for r in rows) for n, rows in curves.items()}
    ours = ", ".join(f"N = {n}: {100 * a:.1f} %" for n, a in best.items()) + " (best pass)"
    return ours, combine(d["verdict"] for d in details), details


def run(budget: str, out: Path, seed: int = 0) -> Outcome:
    data = load_mnist5k(seed)
    if budget == "quick":  # a 10-neuron network on 60 digits: the pipeline, not the claim
        data = dataclasses.replace(
            data, x_train=data.x_train[:60], y_train=data.y_train[:60], x_test=data.x_test[:40], y_test=data.y_test[:40]
        )
        sizes, passes, assign = {10: 1}, 1, 60
    else:
        sizes, passes, assign = {100: 3, 400: 3, 1600: 2}, 3, 1000
    curves: dict = {}
    for n, p in sizes.items():

        def save(rows, n=n):
            atomic_write_json(out / "curves.json", {**{str(k): v for k, v in curves.items()}, str(n): rows})

        curves[n] = learning_curve(n, min(p, passes), data, assign, seed, save)
    _plot(curves, out / "diehl_cook.png")
    ours, verdict, details = judge(curves)
    return Outcome(ours, verdict, "diehl_cook.png", tuple(details), {str(n): rows for n, rows in curves.items()})


CLAIM = Claim(
    name="diehl-cook",
    title="Unsupervised STDP learns MNIST (Diehl & Cook)",
    source="Diehl & Cook 2015, Front. Comput. Neurosci. 9:99",
    paper="82.9 / 87.0 / 91.9 % test accuracy for N = 100 / 400 / 1,600 on full MNIST",
    run=run,
    long=True,
    departures="MNIST-5k (4,000 training and 1,000 test digits) instead of MNIST's 60,000 and 10,000; up to "
    "3 passes (N = 1,600: 2); neurons labelled on 1,000 training digits; the model's own departures "
    "(per-digit normalisation on the host, retries at higher intensity) are those of its guide",
)
