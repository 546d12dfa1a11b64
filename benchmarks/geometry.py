"""Cost of the exponentiated (EG) step against the additive step, per backend, in one run.

Two timings per backend, 784 × 500 float32 weights:

* ``update``: transform + apply only — ``w + η d`` vs ``w + w ⊙ expm1(η sign(w) ⊙ d)``;
* ``training step``: a delta-rule step on a batch of 128 (direction
  ``⟨m xᵀ⟩``, then the geometry, then apply) — what a learning run pays.

Target: an EG training step costs ≤ 1.2× an additive one on the
same backend.  Results: ``benchmarks/results/geometry.{json,md}``.

Run:  python benchmarks/geometry.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from common import best_time, markdown_table, write_report  # noqa: E402

from bioplast import Local, get_backend, plasticity  # noqa: E402
from bioplast.backends import available_backends  # noqa: E402
from bioplast.geometry import additive, exponentiated, lognormal_signed  # noqa: E402
from bioplast.rules import delta  # noqa: E402

B, Q, P = 128, 784, 500
ROUNDS = 6


def main() -> None:
    rng = np.random.default_rng(0)
    w_host = lognormal_signed((P, Q), np.sign(rng.standard_normal(Q)), seed=1)
    rows = []
    for name, device in available_backends():
        k = get_backend(name, device=device, dtype="float32")
        w = k.asarray(w_host)
        d = k.asarray(rng.standard_normal((P, Q)) * 0.01)
        sig = Local(
            pre=k.asarray(rng.random((B, Q))),
            post=k.asarray(rng.random((B, P))),
            mod=k.asarray(rng.standard_normal((B, P)) * 0.1),
        )
        calls = {}
        for label, geo in (("additive", additive(0.01)), ("exponentiated", exponentiated(0.01))):
            state = geo.init(k, w)
            calls[("update", label)] = lambda geo=geo, state=state, k=k, w=w, d=d: k.add(
                w, geo.update(k, d, state, w)[0]
            )
            learn = plasticity(delta(), geo)
            pstate = learn.init(k, w)
            calls[("training step", label)] = lambda learn=learn, pstate=pstate, k=k, sig=sig, w=w: learn.step(
                k, sig, pstate, w
            )
        # interleaved rounds, minimum per call: the BLAS product in the training step varies
        # by ±30 % over seconds on this shared machine, more than EG's whole extra cost
        times = {key: float("inf") for key in calls}
        for _ in range(ROUNDS):
            for key, fn in calls.items():
                times[key] = min(times[key], best_time(fn, repeats=3))
        for what in ("update", "training step"):
            a, e = times[(what, "additive")], times[(what, "exponentiated")]
            rows.append(
                {
                    "backend": f"{name}-{device}",
                    "measure": what,
                    "additive_us": a * 1e6,
                    "exponentiated_us": e * 1e6,
                    "ratio": e / a,
                }
            )
            print(f"{name}-{device:<5} {what:<14} additive {a * 1e6:8.1f} µs  EG {e * 1e6:8.1f} µs  ratio {e / a:5.2f}")
    md = [
        "# Exponentiated vs additive geometry",
        "",
        f"{P} × {Q} float32 weights; training step = delta rule on a batch of {B}. Ratio = EG / additive "
        "(target ≤ 1.2 for the training step). The torch backend is pure torch on the CPU too (the code a GPU "
        "runs): its EG step is four tensor passes with torch's CPU expm1, where numba runs one compiled pass.",
        "",
    ]
    md += markdown_table(
        [
            ("backend", "backend", "s"),
            ("measure", "measure", "s"),
            ("additive µs", "additive_us", ".1f"),
            ("EG µs", "exponentiated_us", ".1f"),
            ("ratio", "ratio", ".2f"),
        ],
        rows,
    )
    write_report("geometry", {"rows": rows}, md)


if __name__ == "__main__":
    main()
