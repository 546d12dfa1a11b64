"""Phase diagram of sign-diverse learning: critical flip fraction against the expansion ratio c.

For the linear two-layer network at the teacher solution (N = 100 hidden,
10 random teachers per point), the smallest fraction of flipped plasticity
at which fewer than half of the solutions stay linearly stable, for flips of
the hidden layer's plasticity (over inputs, D₁) and of the readout's (over
hidden units, D₂).  Results and plot: ``benchmarks/results/curl_phase.{json,md,png}``.

Run:  python benchmarks/curl_phase.py
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from common import RESULTS, markdown_table, write_report  # noqa: E402

from bioplast.bench.plots import _plt, finish  # noqa: E402
from bioplast.dynamics.student_teacher import critical_fraction  # noqa: E402

C_VALUES = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0)


def main() -> None:
    rows = [{"c": c, "hidden_layer_flips": critical_fraction(c, "inputs"),
             "readout_flips": critical_fraction(c, "hidden")} for c in C_VALUES]
    for r in rows:
        print(f"c={r['c']:.2f}: critical fraction, hidden-layer flips {r['hidden_layer_flips']:.2f}, "
              f"readout flips {r['readout_flips']:.2f}")
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    cs = [r["c"] for r in rows]
    ax.plot(cs, [r["hidden_layer_flips"] for r in rows], marker="o", label="hidden-layer flips (D₁, over inputs)")
    ax.plot(cs, [r["readout_flips"] for r in rows], marker="s", label="readout flips (D₂, over hidden units)")
    ax.axvline(0.25, color="gray", ls=":", lw=1)
    ax.axvline(2 / 3, color="gray", ls="--", lw=1)
    ax.set_xscale("log")
    finish(fig, ax, RESULTS / "curl_phase.png", xlabel="c = inputs / hidden",
           ylabel="critical flip fraction", title="Linear two-layer network: stable below the curves",
           ylim=(0, 1.05))
    md = ["# Curl learning: critical flip fraction vs expansion ratio", "",
          "Linear two-layer network at the teacher solution, N = 100 hidden, 10 teachers per point: the "
          "smallest flip fraction at which fewer than half the solutions are linearly stable (λ_min(A) ≤ 0). "
          "Dotted line c = 1/4 (below it even all inputs flipped is stable), dashed c = 2/3 (above it a "
          "single flipped input destabilises).", "", "![phase diagram](curl_phase.png)", ""]
    md += markdown_table([("c", "c", ".2f"), ("hidden-layer flips", "hidden_layer_flips", ".2f"),
                          ("readout flips", "readout_flips", ".2f")], rows)
    write_report("curl_phase", {"rows": rows}, md)


if __name__ == "__main__":
    main()
