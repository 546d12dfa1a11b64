"""Zeroth-order learning: alignment with backprop against the number of probes, and learning
with injected noise vs the device's own read noise as the probe.

1. Alignment: a 64-32-10 tanh network on a batch of 32 digits (its initial weights), cosine of
   each estimate with the backprop direction −∇L, mean ± std over 10 probe sets, for weight and
   node perturbation with P = 1 … 256 probes (antithetic, σ = 1e-3), beside the theory for
   isotropic weight probes √(P/(P + d)).  Node perturbation on a substrate with read noise 0.05:
   injected probes (σ = 0.05) vs the read noise as the probe.
2. Learning: digits, 64-32-10 relu, 10 epochs, seeds 0–2: backprop, weight perturbation (P = 8),
   node perturbation (P = 1) on an exact substrate, and on a substrate with read noise 0.05 both
   injected node perturbation and read-noise-as-probe node perturbation (P = 4 each).

Results and plot: ``benchmarks/results/zeroth_order.{json,md,png}``.

Run:  python benchmarks/zeroth_order.py
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from common import RESULTS, markdown_table, write_report  # noqa: E402

from bioplast.analysis.alignment import alignment_with_backprop  # noqa: E402
from bioplast.backends import get_backend  # noqa: E402
from bioplast.data import load_task, one_hot  # noqa: E402
from bioplast.dynamics.feedforward import init_mlp  # noqa: E402
from bioplast.figures import finish, pyplot  # noqa: E402
from bioplast.hardware import DeviceProfile  # noqa: E402
from bioplast.rules import get_rule  # noqa: E402
from bioplast.training import TrainConfig, train  # noqa: E402

PROBES = (1, 4, 16, 64, 256)
NOISY = DeviceProfile(
    "read-noise-0.05",
    bounds="none",
    read_noise=0.05,
    sources="float weights, read noise 0.05 of the range: a benchmark profile",
)
SEEDS = (0, 1, 2)
EPOCHS = 10


def alignment() -> list:
    k = get_backend("numpy", dtype="float64")
    data = load_task("digits", 0)
    x, t = k.asarray(data.x_train[:32]), k.asarray(one_hot(data.y_train[:32], data.n_classes))
    params = init_mlp(k, [data.n_features, 32, data.n_classes], 0)
    d = sum(int(np.prod(w.shape)) for w in params.weights)
    rows = []
    for p in PROBES:
        for name, rule, device in (
            ("weight perturbation", get_rule("weight_perturbation", probes=p, sigma=1e-3), None),
            ("node perturbation", get_rule("node_perturbation", probes=p, sigma=1e-3), None),
            ("node, injected σ=0.05, read noise 0.05", get_rule("node_perturbation", probes=p, sigma=0.05), NOISY),
            (
                "node, read noise 0.05 as probe",
                get_rule("node_perturbation", probes=p, noise="device", estimator="forward"),
                NOISY,
            ),
        ):
            c = alignment_with_backprop(k, params, x, t, rule, steps=10, device=device)
            rows.append(
                {
                    "estimator": name,
                    "probes": p,
                    "cos_mean": float(c.mean()),
                    "cos_std": float(c.std()),
                    "theory": float(np.sqrt(p / (p + d))) if name == "weight perturbation" else float("nan"),
                }
            )
            print(f"{name:40s} P={p:4d}  cos {c.mean():.3f} ± {c.std():.3f}", flush=True)
    return rows


RUNS = [
    ("backprop", dict(rule="backprop")),
    ("weight perturbation P=8", dict(rule="weight_perturbation", rule_params={"probes": 8})),
    ("node perturbation", dict(rule="node_perturbation")),
    (
        "node, injected, read noise 0.05",
        dict(rule="node_perturbation", substrate=NOISY.name, rule_params={"probes": 4}),
    ),
    (
        "node, read noise as probe",
        dict(
            rule="node_perturbation",
            substrate=NOISY.name,
            rule_params={"probes": 4, "noise": "device", "estimator": "forward"},
        ),
    ),
]


def learning() -> list:
    subs = importlib.import_module("bioplast.hardware.substrates")
    subs.PRESETS[NOISY.name] = NOISY  # a benchmark-only profile, registered for this process
    rows = []
    for label, cfg in RUNS:
        for seed in SEEDS:
            records = train(
                TrainConfig(task="digits", epochs=EPOCHS, hidden=(32,), lr=0.05, seed=seed, **cfg), progress=False
            )
            rows.append(
                {
                    "run": label,
                    "seed": seed,
                    "curve": [r["test_acc"] for r in records],
                    "test_acc": records[-1]["test_acc"],
                    "wall_time_s": records[-1]["wall_time_s"],
                    "synops": records[-1]["synops"],
                }
            )
            print(
                f"{label:35s} seed {seed}: {records[-1]['test_acc']:.3f} in {records[-1]['wall_time_s']:.1f} s",
                flush=True,
            )
    return rows


def plot(align: list, learn: list, path: Path) -> None:
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    # one colour per estimator in both panels: weight, node, injected on a noisy device, device noise
    for i, name in enumerate(dict.fromkeys(r["estimator"] for r in align)):
        sel = [r for r in align if r["estimator"] == name]
        a.errorbar(
            [r["probes"] for r in sel],
            [r["cos_mean"] for r in sel],
            [r["cos_std"] for r in sel],
            marker="o",
            ms=3,
            capsize=2,
            label=name,
            color=f"C{i}",
        )
    theory = [r for r in align if r["estimator"] == "weight perturbation"]
    a.plot([r["probes"] for r in theory], [r["theory"] for r in theory], "k:", label="√(P/(P+d)), weight probes")
    a.set_xscale("log")
    a.set_xlabel("probes per step")
    a.set_ylabel("cosine with backprop")
    a.set_ylim(0, 1)
    a.grid(alpha=0.3)
    a.legend(frameon=False, fontsize=7)
    a.set_title("alignment of one step's estimate")
    for i, label in enumerate(dict.fromkeys(r["run"] for r in learn)):  # RUNS: backprop first, then as above
        curves = np.array([r["curve"] for r in learn if r["run"] == label])
        m, s = curves.mean(0), curves.std(0)
        colour = "k" if i == 0 else f"C{i - 1}"
        b.plot(range(len(m)), m, marker="o", ms=3, label=label, color=colour)
        b.fill_between(range(len(m)), m - s, m + s, alpha=0.2, color=colour)
    finish(
        fig,
        b,
        path,
        xlabel="epoch",
        ylabel="test accuracy (digits)",
        title="learning (mean ± std, 3 seeds)",
        ylim=(0, 1),
    )


def main() -> None:
    t0 = time.perf_counter()
    align = alignment()
    learn = learning()
    plot(align, learn, RESULTS / "zeroth_order.png")
    summary = []
    for label in dict.fromkeys(r["run"] for r in learn):
        sel = [r for r in learn if r["run"] == label]
        acc = np.array([r["test_acc"] for r in sel])
        summary.append(
            {
                "run": label,
                "acc": f"{acc.mean():.3f} ± {acc.std():.3f}",
                "time": float(np.mean([r["wall_time_s"] for r in sel])),
                "synops": float(np.mean([r["synops"] for r in sel])),
            }
        )
    md = [
        "# Zeroth-order learning",
        "",
        "Alignment: cosine of one step's estimate with −∇L (64-32-10 tanh, initial weights, batch 32 digits, "
        "10 probe sets; d = 2,368 weights).",
        "",
    ]
    md += markdown_table(
        [
            ("estimator", "estimator", "s"),
            ("probes", "probes", "d"),
            ("cos mean", "cos_mean", ".3f"),
            ("cos std", "cos_std", ".3f"),
            ("theory √(P/(P+d))", "theory", ".3f"),
        ],
        align,
    )
    md += ["", f"Learning: digits, 64-32-10 relu, {EPOCHS} epochs, lr 0.05, batch 32, seeds {list(SEEDS)}.", ""]
    md += markdown_table(
        [
            ("run", "run", "s"),
            ("final test accuracy", "acc", "s"),
            ("training time (s)", "time", ".1f"),
            ("synaptic ops", "synops", ".3g"),
        ],
        summary,
    )
    md += ["", "![zeroth_order.png](zeroth_order.png)", "", f"Total {time.perf_counter() - t0:.0f} s."]
    write_report("zeroth_order", {"alignment": align, "learning": learn}, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
