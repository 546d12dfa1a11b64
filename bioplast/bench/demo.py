"""The README's main job: a small rule comparison on a bundled dataset.

Runs every (rule, seed) with :func:`bioplast.train.train`, each into its own
folder, then writes ``runs.csv`` (one row per run and epoch),
``summary.csv`` / ``summary.md`` (final accuracy, mean ± std over seeds)
and two plots.  Runs whose folder already holds a finished record are
skipped, so an interrupted demo resumes where it stopped.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ..io import atomic_write_csv, atomic_write_text, ensure_dir
from ..train import TrainConfig, train
from . import plots

DEMO_RULES = ("backprop", "eqprop", "delta", "oja", "hebb", "bcm")


def run_demo(out, task: str = "digits", rules=DEMO_RULES, seeds=(0, 1, 2), epochs: int = 10,
             backend: str = "numba", progress: bool = True) -> list:
    from tqdm.auto import tqdm

    out = ensure_dir(out)
    t_start = time.perf_counter()
    rows = []
    jobs = [(rule, seed) for rule in rules for seed in seeds]
    for rule, seed in tqdm(jobs, desc=f"demo on {task}", unit="run", disable=not progress):
        run_dir = out / "runs" / f"{rule}-seed{seed}"
        records = _finished(run_dir, epochs)
        if records is None:
            records = train(TrainConfig(rule=rule, task=task, backend=backend, epochs=epochs, seed=seed),
                            out=run_dir, progress=False)
        rows += [{"rule": rule, "task": task, "backend": backend, "seed": seed, **r} for r in records]
    atomic_write_csv(out / "runs.csv", rows)
    summary = summarise(rows, epochs)
    atomic_write_csv(out / "summary.csv", summary)
    atomic_write_text(out / "summary.md", markdown_table(summary, task, len(seeds), epochs))
    plots.learning_curves(rows, out / "learning_curves.png", f"{task}: test accuracy (mean ± std, {len(seeds)} seeds)")
    plots.final_accuracy(summary, out / "final_accuracy.png", f"{task}: after {epochs} epochs")
    if progress:
        print(markdown_table(summary, task, len(seeds), epochs))
        print(f"wrote {out}/summary.md, runs.csv, learning_curves.png, final_accuracy.png "
              f"in {time.perf_counter() - t_start:.1f} s")
    return summary


def _finished(run_dir: Path, epochs: int):
    try:
        records = json.loads((run_dir / "metrics.json").read_text())
    except (OSError, ValueError):
        return None
    return records if records and records[-1]["epoch"] == epochs else None


def summarise(rows: list, epochs: int) -> list:
    summary = []
    for rule in dict.fromkeys(r["rule"] for r in rows):
        last = [r for r in rows if r["rule"] == rule and r["epoch"] == epochs]
        acc = np.array([r["test_acc"] for r in last])
        summary.append({"rule": rule, "seeds": len(last), "test_acc_mean": float(acc.mean()),
                        "test_acc_std": float(acc.std()),
                        "train_acc_mean": float(np.mean([r["train_acc"] for r in last])),
                        "wall_time_s_mean": float(np.mean([r["wall_time_s"] for r in last])),
                        "synops_mean": float(np.mean([r["synops"] for r in last]))})
    return summary


def markdown_table(summary: list, task: str, n_seeds: int, epochs: int) -> str:
    lines = [f"# Rule comparison on {task} ({epochs} epochs, {n_seeds} seeds)", "",
             "| rule | test accuracy | train accuracy | training time (s) | synaptic ops |",
             "|---|---|---|---|---|"]
    for s in summary:
        lines.append(f"| {s['rule']} | {s['test_acc_mean']:.3f} ± {s['test_acc_std']:.3f} | "
                     f"{s['train_acc_mean']:.3f} | {s['wall_time_s_mean']:.2f} | {s['synops_mean']:.3g} |")
    return "\n".join(lines) + "\n"
