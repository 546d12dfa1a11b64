"""The backprop baseline's learning rate, chosen on a validation split (never on the test split).

The reference row of every built-in suite is backprop with Adam (Kingma & Ba 2015): the standard a
local rule should be measured against.  Its learning rate is chosen here by a small sweep on a
validation split carved out of each task's *training* set (stratified 80/20, its own seed), with the
architecture and epochs of the ``quick`` suite (one hidden layer of 128 ReLU units, 3 epochs, batch
32, numba); plain SGD is swept beside it for comparison.  The test split is not looked at.  The
chosen rate is the one with the best mean validation accuracy over the seeds on both tasks
together (one rate for all suites: a baseline tuned per task would be tuned on more data than the
rules are).

    python benchmarks/baseline_lr.py          # writes benchmarks/results/baseline_lr.{md,json}
"""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import numpy as np

from bioplast.data import load_task
from bioplast.data.dataset import Dataset, stratified_split
from bioplast.io import atomic_write_json, atomic_write_text
from bioplast.training import TrainConfig, train

RESULTS = Path(__file__).parent / "results"
TASKS = ("digits", "mnist5k")
SEEDS = (0, 1)
GRID = {"adam": (3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1), "sgd": (0.02, 0.05, 0.1, 0.2, 0.5)}
EPOCHS, HIDDEN = 3, (128,)


def validation_task(task: str, seed: int) -> Dataset:
    """``task``'s training split, split again: 80 % to fit, 20 % to validate (stratified)."""
    d = load_task(task, seed)
    fit_x, fit_y, val_x, val_y = stratified_split(d.x_train, d.y_train, 0.2, 1000 + seed)
    return Dataset(f"{task}-validation", fit_x, fit_y, val_x, val_y, d.n_classes, d.shape)


def main() -> None:
    rows = []
    for task in TASKS:
        for seed in SEEDS:
            data = validation_task(task, seed)
            for optimizer, rates in GRID.items():
                for lr in rates:
                    cfg = TrainConfig(rule="backprop", task=data, backend="numba", optimizer=optimizer, lr=lr,
                                      hidden=HIDDEN, epochs=EPOCHS, seed=seed)  # fmt: skip
                    last = train(cfg, progress=False)[-1]
                    rows.append({"task": task, "seed": seed, "optimizer": optimizer, "lr": lr,
                                 "validation_acc": last["test_acc"]})  # fmt: skip
                    print(f"{task:8s} seed {seed} {optimizer:4s} lr {lr:<7g} validation {last['test_acc']:.4f}",
                          flush=True)  # fmt: skip
    means = {}
    for optimizer, rates in GRID.items():
        for lr in rates:
            sel = [r for r in rows if r["optimizer"] == optimizer and r["lr"] == lr]
            means[(optimizer, lr)] = {
                task: float(np.mean([r["validation_acc"] for r in sel if r["task"] == task])) for task in TASKS
            }
    best = {
        opt: max(GRID[opt], key=lambda lr, opt=opt: float(np.mean(list(means[(opt, lr)].values())))) for opt in GRID
    }
    lines = [
        "# Backprop baseline: learning rate on a validation split",
        "",
        f"Backprop, {HIDDEN[0]} hidden ReLU units, {EPOCHS} epochs, batch 32, numba; validation accuracy "
        f"(20 % of each task's training split, stratified; the test split unused), mean over seeds {list(SEEDS)}.",
        "",
        "| optimizer | lr | " + " | ".join(TASKS) + " | mean |",
        "|---|---|" + "---|" * len(TASKS) + "---|",
    ]
    for (optimizer, lr), m in means.items():
        mark = " **(chosen)**" if best[optimizer] == lr else ""
        cells = " | ".join(f"{m[t]:.4f}" for t in TASKS)
        lines.append(f"| {optimizer} | {lr:g}{mark} | {cells} | {np.mean(list(m.values())):.4f} |")
    lines += [
        "",
        f"The built-in suites' `backprop` row uses Adam at lr {best['adam']:g}; "
        f"the best plain-SGD rate here is {best['sgd']:g}.",
        "",
        f"Machine: {platform.processor() or platform.machine()} ({sys.platform}); "
        "`python benchmarks/baseline_lr.py` reproduces this table.",
    ]
    RESULTS.mkdir(exist_ok=True)
    atomic_write_text(RESULTS / "baseline_lr.md", "\n".join(lines) + "\n")
    atomic_write_json(RESULTS / "baseline_lr.json", {"rows": rows, "chosen": best})
    print("\n".join(lines))


if __name__ == "__main__":
    main()
