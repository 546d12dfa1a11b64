"""EP learning results on real data (recorded here, not asserted by timed tests).

1. MNIST-5k (4,000 / 1,000 seeded stratified split), 784-512-10, σ(4(x − ½)),
   Adam 5e-4, β = 0.1, 30 free + 10 nudged steps, batch 50, squared error —
   the configuration of the published reference code (Laborieux et al. 2021,
   ``check/train_mnist.sh``) — for every estimator (one-sided, random-sign,
   symmetric, holomorphic N = 4), beside the backprop baseline of the same
   architecture, loss and optimiser.  The reference reaches ≈ 88 / 91.5 / 93 %
   after 1 / 5 / 10 epochs on this split.
2. 784-512-512-10, symmetric against one-sided nudging, 5 epochs.
3. sklearn digits, symmetric EP.

Writes ``benchmarks/results/ep_learning.{json,md}`` and
``ep_learning_mnist5k.png`` / ``ep_learning_deep.png`` / ``ep_learning_digits.png``.

Every run is repeated over seeds 0, 1, 2 (split, init, batch order); tables
give mean ± std.

Run:  python benchmarks/ep_learning.py [--only mnist5k deep digits] [--seeds 0 1 2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from common import RESULTS, write_report  # noqa: E402

from bioplast.bench.plots import learning_curves  # noqa: E402
from bioplast.training import TrainConfig, train  # noqa: E402

REF = dict(
    task="mnist5k", backend="numba", batch_size=50, lr=5e-4, optimizer="adam", activation="sigmoid4", hidden=(512,)
)
EP = dict(beta=0.1, free_steps=30, nudge_steps=10)


def experiments(seed: int) -> dict:
    return {
        "mnist5k": (
            "MNIST-5k, 784-512-10, reference configuration",
            10,
            [
                (
                    "EP one-sided",
                    TrainConfig(rule="eqprop", seed=seed, **REF, rule_params={**EP, "estimator": "one_sided"}),
                ),
                (
                    "EP random-sign",
                    TrainConfig(rule="eqprop", seed=seed, **REF, rule_params={**EP, "estimator": "random_sign"}),
                ),
                (
                    "EP symmetric",
                    TrainConfig(rule="eqprop", seed=seed, **REF, rule_params={**EP, "estimator": "symmetric"}),
                ),
                (
                    "EP holomorphic N=4",
                    TrainConfig(rule="holo_eqprop", seed=seed, **REF, rule_params={**EP, "points": 4}),
                ),
                ("backprop", TrainConfig(rule="backprop", seed=seed, **REF, loss="mse")),
            ],
        ),
        "deep": (
            "MNIST-5k, 784-512-512-10",
            5,
            [
                (
                    "EP one-sided",
                    TrainConfig(
                        rule="eqprop",
                        seed=seed,
                        **{**REF, "hidden": (512, 512)},
                        rule_params={**EP, "estimator": "one_sided"},
                    ),
                ),
                (
                    "EP symmetric",
                    TrainConfig(
                        rule="eqprop",
                        seed=seed,
                        **{**REF, "hidden": (512, 512)},
                        rule_params={**EP, "estimator": "symmetric"},
                    ),
                ),
                ("backprop", TrainConfig(rule="backprop", seed=seed, **{**REF, "hidden": (512, 512)}, loss="mse")),
            ],
        ),
        "digits": (
            "sklearn digits, 64-256-10",
            30,
            [
                (
                    "EP symmetric",
                    TrainConfig(
                        rule="eqprop",
                        seed=seed,
                        **{**REF, "task": "digits", "hidden": (256,), "lr": 2e-3},
                        rule_params={**EP, "estimator": "symmetric"},
                    ),
                ),
                (
                    "backprop",
                    TrainConfig(
                        rule="backprop",
                        seed=seed,
                        **{**REF, "task": "digits", "hidden": (256,), "lr": 2e-3},
                        loss="mse",
                    ),
                ),
            ],
        ),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = ap.parse_args()
    payload_path = RESULTS / "ep_learning.json"
    import json

    payload = json.loads(payload_path.read_text()) if payload_path.exists() else {"experiments": {}}
    import numpy as np

    for key in experiments(0):
        if args.only and key not in args.only:
            continue
        rows, table = [], []
        title, epochs, runs = experiments(0)[key]
        for i, (name, _) in enumerate(runs):
            per_seed = []
            for seed in args.seeds:
                cfg = experiments(seed)[key][2][i][1]
                cfg.epochs = epochs
                records = train(cfg, progress=False)
                rows += [{**r, "rule": name, "seed": seed} for r in records]
                per_seed.append(records)
            cols = {
                f"epoch_{e}": [r[e]["test_acc"] for r in per_seed] for e in sorted({1, 5, 10, epochs}) if e <= epochs
            }
            table.append(
                {
                    "run": name,
                    **{c: [float(np.mean(v)), float(np.std(v))] for c, v in cols.items()},
                    "final_train_acc": float(np.mean([r[-1]["train_acc"] for r in per_seed])),
                    "wall_time_s": float(np.mean([r[-1]["wall_time_s"] for r in per_seed])),
                }
            )
            print(
                f"{title} | {name}: " + ", ".join(f"{c} {np.mean(v):.4f} ± {np.std(v):.4f}" for c, v in cols.items()),
                flush=True,
            )
        learning_curves(rows, RESULTS / f"ep_learning_{key}.png", title=title)
        payload["experiments"][key] = {
            "title": title,
            "epochs": epochs,
            "seeds": args.seeds,
            "table": table,
            "records": rows,
        }
    md = [
        "# EP learning results",
        "",
        "Test accuracy after the given epoch, mean ± std over seeds (each seed changes the split, the init "
        "and the batch order). Produced by `python benchmarks/ep_learning.py`.",
        "",
    ]
    for key, exp in payload["experiments"].items():
        cols = [c for c in exp["table"][0] if c.startswith("epoch_")]
        md += [
            f"## {exp['title']} (seeds {', '.join(map(str, exp['seeds']))})",
            "",
            f"![curves](ep_learning_{key}.png)",
            "",
            "| run | " + " | ".join(c.replace("_", " ") for c in cols) + " | final train acc | train time (s) |",
            "|---|" + "---|" * (len(cols) + 2),
        ]
        md += [
            f"| {r['run']} | "
            + " | ".join(f"{r[c][0]:.4f} ± {r[c][1]:.4f}" for c in cols)
            + f" | {r['final_train_acc']:.4f} | {r['wall_time_s']:.1f} |"
            for r in exp["table"]
        ]
        md.append("")
    write_report("ep_learning", payload, md)


if __name__ == "__main__":
    main()
