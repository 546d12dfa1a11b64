"""The README's main job (``make demo``): a rule comparison run by the benchmark harness.

The demo suite is the ``quick`` suite's families — the backprop baseline,
symmetric EP, EG under Dale's law, a DANN — plus the classic local readouts
(delta, Oja, Hebb, BCM), on the tasks, seeds and epochs given.  Everything
:func:`bioplast.bench.sweep.run_suite` does applies: resumable, one tidy
table, a report with plots.
"""

from __future__ import annotations

from bioplast.bench.suite import BUILTIN
from bioplast.bench.sweep import run_suite

READOUTS = [{"label": name, "rule": name, "lr": 0.05} for name in ("delta", "oja", "hebb", "bcm")]


def demo_suite(tasks=("digits", "mnist5k"), seeds=(0, 1), epochs: int = 5, backend: str = "numba") -> dict:
    runs = [r for r in BUILTIN["quick"]["runs"] if r["rule"] != "oja"] + READOUTS
    return {
        **BUILTIN["quick"],
        "name": "demo",
        "tasks": list(tasks),
        "backends": [backend],
        "seeds": list(seeds),
        "epochs": epochs,
        "runs": runs,
    }


def run_demo(
    out, tasks=("digits", "mnist5k"), seeds=(0, 1), epochs: int = 5, backend: str = "numba", progress: bool = True
) -> dict:
    return run_suite(demo_suite(tasks, seeds, epochs, backend), out, progress=progress)
