"""Generalized EP: gradient alignment vs weight asymmetry, with and without Jacobian homeostasis.

For each initial asymmetry a ∈ [0, 1] (top-down B_l = (1 − a) W_lᵀ + a R_l)
and homeostasis λ ∈ {0, 1}, a fresh 784-128-10 network (MNIST-5k, tanh,
dt = 0.5, 100 + 100 steps, β = 0.01 symmetric) trains for 50 SGD batches of
32 with generalized EP; then its estimate of the bottom-up weights' gradient
on 20 test digits is compared with float64 recurrent backprop
(:func:`bioplast.analysis.alignment.alignment_curve`).

Writes ``benchmarks/results/ep_alignment.{json,md,png}``.

Run:  python benchmarks/ep_alignment.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from common import RESULTS, write_report  # noqa: E402

from bioplast.analysis.alignment import alignment_curve  # noqa: E402
from bioplast.figures import pyplot, save_png  # noqa: E402

ASYMMETRIES = tuple(np.round(np.linspace(0, 1, 9), 3))


def main() -> None:
    rows = alignment_curve(
        task="mnist5k",
        hidden=(128,),
        asymmetries=ASYMMETRIES,
        homeostasis=(0.0, 1.0),
        train_batches=50,
        samples=20,
        progress=True,
    )
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for lam, label in ((0.0, "no homeostasis"), (1.0, "Jacobian homeostasis, λ = 1")):
        sel = [r for r in rows if r["homeostasis"] == lam]
        a = [r["asymmetry"] for r in sel]
        axes[0].plot(a, [r["cosine"] for r in sel], marker="o", label=label)
        axes[1].plot(a, [r["jacobian_asymmetry"] for r in sel], marker="o", label=label)
    axes[0].set_xlabel("initial asymmetry a")
    axes[0].set_ylabel("cosine(GEP, backprop)")
    axes[0].set_ylim(-0.2, 1.02)
    axes[1].set_xlabel("initial asymmetry a")
    axes[1].set_ylabel("‖J − Jᵀ‖ / ‖J + Jᵀ‖ after training")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(frameon=False, fontsize=8)
    fig.suptitle("Generalized EP, 784-128-10, 50 training batches", fontsize=10)
    save_png(fig, RESULTS / "ep_alignment.png")
    plt.close(fig)
    md = [
        "# Generalized EP: alignment with backprop vs weight asymmetry",
        "",
        "784-128-10, MNIST-5k, tanh, dt 0.5, 100 + 100 steps, β = 0.01 (symmetric), 50 SGD batches of 32 "
        "(lr 0.02) before measuring on 20 test digits against float64 recurrent backprop.",
        "",
        "![alignment](ep_alignment.png)",
        "",
        "| asymmetry a | homeostasis λ | cosine | relative error | Jacobian asymmetry |",
        "|---|---|---|---|---|",
    ]
    md += [
        f"| {r['asymmetry']:.3f} | {r['homeostasis']:g} | {r['cosine']:.4f} | {r['relative_error']:.4f} | "
        f"{r['jacobian_asymmetry']:.4f} |"
        for r in rows
    ]
    write_report("ep_alignment", {"rows": rows}, md)
    for r in rows:
        print(
            f"a={r['asymmetry']:.3f} λ={r['homeostasis']:g}: cosine {r['cosine']:.4f}, "
            f"asymmetry {r['jacobian_asymmetry']:.4f}"
        )


if __name__ == "__main__":
    main()
