"""Cost of the substrate: one training step on a device profile against the ideal step, same backend.

For each backend (numpy, numba, torch CPU) a 784-128-10 MLP on MNIST-5k-sized inputs (batch 32,
float32) takes ``train_batch`` steps with the backprop baseline and with node perturbation;
the substrate's transforms (quantisation, noise, bounds, differential pairs) and read noise are
the only difference.  Best-of-5 seconds per step; the ratio to ideal is what the target
bounds (≤ 2× for ``loihi2-like`` and ``pcm-crossbar``).

numba and torch (CPU) run a profile's elementwise stages as one fused kernel
(:func:`bioplast.hardware.fusion.fused_write`); numpy, the reference, runs them as array operations.
The last table gives the cost of the write noise's draws alone (one normal per weight, 784 × 128),
which is most of what ``pcm-crossbar`` adds.

Results: ``benchmarks/results/substrate_cost.{json,md}``.

Run:  python benchmarks/substrate_cost.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from common import best_time, markdown_table, write_report  # noqa: E402

from bioplast.backends import get_backend  # noqa: E402
from bioplast.training import TrainConfig  # noqa: E402
from bioplast.training import model_for as build_model

SUBSTRATES = ("ideal", "loihi2-like", "pcm-crossbar", "pcm-differential")
RULES = ("backprop", "node_perturbation")


def step_time(backend: str, rule: str, substrate: str) -> float:
    cfg = TrainConfig(rule=rule, backend=backend, substrate=substrate, hidden=(128,)).validate()
    k = get_backend(backend, dtype="float32")
    model = build_model(k, cfg, 784, 10)
    rng = np.random.default_rng(0)
    x = k.asarray(rng.random((32, 784)))
    t = k.asarray(np.eye(10)[rng.integers(0, 10, 32)])
    return best_time(lambda: model.train_batch(x, t))


def main() -> None:
    rows = []
    for backend in ("numpy", "numba", "torch"):
        for rule in RULES:
            ideal = step_time(backend, rule, "ideal")
            for sub in SUBSTRATES:
                t = ideal if sub == "ideal" else step_time(backend, rule, sub)
                rows.append({"backend": backend, "rule": rule, "substrate": sub, "ms": 1e3 * t, "ratio": t / ideal})
                print(f"{backend:6s} {rule:18s} {sub:17s} {1e3 * t:7.3f} ms  {t / ideal:.2f}× ideal", flush=True)
    draws = []
    for backend in ("numpy", "numba", "torch"):
        k = get_backend(backend, dtype="float32")
        t = best_time(lambda k=k: k.counter_normal((1, 2), (128, 784)))
        draws.append({"backend": backend, "ms": 1e3 * t})
        print(f"{backend:6s} 100,352 counter-based normal draws {1e3 * t:7.3f} ms", flush=True)
    md = [
        "# Cost of the substrate",
        "",
        "One `train_batch` step, 784-128-10, batch 32, float32; best of 5; ratio to the ideal step on the same "
        "backend and rule (target ≤ 2× for loihi2-like and pcm-crossbar). The torch backend is pure torch on the CPU "
        "too — the code a GPU runs — so its device stages run as separate tensor operations; numba fuses them "
        "into one compiled pass.",
        "",
    ]
    md += markdown_table(
        [
            ("backend", "backend", "s"),
            ("rule", "rule", "s"),
            ("substrate", "substrate", "s"),
            ("ms / step", "ms", ".3f"),
            ("× ideal", "ratio", ".2f"),
        ],
        rows,
    )
    md += ["", "Counter-based normal draws for one 784 × 128 matrix (the write noise's share of a step):", ""]
    md += markdown_table([("backend", "backend", "s"), ("ms", "ms", ".3f")], draws)
    write_report("substrate_cost", {"rows": rows, "normal_draws": draws}, md)
    print("\n".join(md))


if __name__ == "__main__":
    main()
