"""Dale's law experiments, full size; results in ``benchmarks/results/dale.{json,md}`` + PNGs.

1. GD vs sign-frozen GD vs EG on the backprop MLP (784-256-10, MNIST-5k and
   digits, 10 epochs, seeds 0–2): accuracy, sign flips, skewness of log|w|,
   the geometry test's verdict, weight histograms.
2. Sparse-relevant-input regression (d = 500, n = 100): GD vs EG±.
3. Magnitude pruning of the first layer: accuracy vs fraction pruned.
4. DANN and column-sign E/I MLP vs the standard MLP (backprop, MNIST-5k).

Run:  python benchmarks/dale.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from common import RESULTS, write_report  # noqa: E402

from bioplast.experiments.dale import (  # noqa: E402
    compare_geometries,
    dale_networks,
    plot_pruning,
    plot_weight_histograms,
    pruning_curve,
    sparse_regression,
)

SEEDS = (0, 1, 2)


def _mean_std(values) -> str:
    return f"{np.mean(values):.4f} ± {np.std(values):.4f}"


def main() -> None:
    payload, md = {}, ["# Dale's law: geometry, E/I networks", ""]
    for task in ("mnist5k", "digits"):
        rows, weights = compare_geometries(task=task, epochs=10, seeds=SEEDS, hidden=(256,))
        plot_weight_histograms(
            weights,
            RESULTS / f"dale_weights_{task}.png",
            title=f"{task}, 784-256-10 backprop" if task == "mnist5k" else f"{task}, 64-256-10 backprop",
        )
        prune = pruning_curve({n: a for (n, s), (b, a) in weights.items() if s == 0}, task=task)
        plot_pruning(prune, RESULTS / f"dale_pruning_{task}.png", title=f"{task}: magnitude pruning")
        payload[task] = {"geometries": rows, "pruning": prune}
        md += [
            f"## {task}: GD vs sign-frozen GD vs EG (backprop MLP, hidden 256, 10 epochs, seeds 0–2)",
            "",
            "| geometry | test acc | sign flips | zeroed | skew of log\\|w\\| | geometry test (seed 0) |",
            "|---|---|---|---|---|---|",
        ]
        for name in dict.fromkeys(r["geometry"] for r in rows):
            sel = [r for r in rows if r["geometry"] == name]
            md.append(
                f"| {name} | {_mean_std([r['test_acc'] for r in sel])} | "
                f"{_mean_std([r['sign_flips'] for r in sel])} | {_mean_std([r['zeroed'] for r in sel])} | "
                f"{_mean_std([r['log_weight_skew'] for r in sel])} | {sel[0]['geometry_test']} "
                f"(KS {', '.join(f'{k} {v:.3f}' for k, v in sel[0]['ks'].items())}) |"
            )
        md += [
            "",
            f"![weights](dale_weights_{task}.png) ![pruning](dale_pruning_{task}.png)",
            "",
            "| pruned | " + " | ".join(dict.fromkeys(r["geometry"] for r in prune)) + " |",
            "|---|" + "---|" * len(GEO := list(dict.fromkeys(r["geometry"] for r in prune))),
        ]
        for frac in dict.fromkeys(r["pruned"] for r in prune):
            md.append(
                f"| {frac:.2f} | "
                + " | ".join(
                    f"{r['test_acc']:.4f}" for g in GEO for r in prune if r["geometry"] == g and r["pruned"] == frac
                )
                + " |"
            )
        md.append("")
        print(f"{task} done", flush=True)
    sparse = sparse_regression()
    payload["sparse_regression"] = sparse
    md += [
        "## Sparse-relevant-input regression (d = 500, n = 100, 2,000 full-batch steps, seeds 0–2)",
        "",
        "Test MSE against the teacher, each method at its best learning rate of a 3-point grid.",
        "",
        "| relevant inputs | GD | EG± |",
        "|---|---|---|",
    ]
    for rel in dict.fromkeys(r["relevant"] for r in sparse):
        by = {r["method"]: r["test_mse"] for r in sparse if r["relevant"] == rel}
        md.append(f"| {rel} | {by['GD']:.4g} | {by['EG±']:.4g} |")
    nets = dale_networks(task="mnist5k", epochs=10, seeds=SEEDS, hidden=(256,))
    payload["networks"] = nets
    md += [
        "",
        "## Dale networks vs a standard MLP (backprop, SGD 0.05, MNIST-5k, 784-256-10, 10 epochs, seeds 0–2)",
        "",
        "| network | test acc |",
        "|---|---|",
    ]
    for net in dict.fromkeys(r["network"] for r in nets):
        md.append(f"| {net} | {_mean_std([r['test_acc'] for r in nets if r['network'] == net])} |")
    write_report("dale", payload, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
