"""Curl learning's stability thresholds and chaos above them (Ninou, Kadmon & Cayco-Gajic 2025, Figs. 2–4).

For a linear two-layer student with one output at its teacher's solution, the error obeys
``ė = −η A e`` with ``A = ‖w₂‖² D₁ + W₁ᵀ D₂ W₁`` (:func:`~bioplast.dynamics.student_teacher.stability_matrix`):
the solution is stable iff ``λ_min(A) > 0``.  The paper's exact statements for flips of the hidden
layer's plasticity (``D₁``, over inputs): below the expansion ratio ``c = inputs/hidden = 1/4`` even
all inputs flipped leave it stable; from ``c = 2/3`` a single flipped input destabilises it.  Learning
follows the theory (a simulation converges where the teacher point is stable and not where it is
not), and above the threshold learning is chaotic: a positive largest Lyapunov exponent and no
convergence (order parameter ``q = log₁₀(E_final/E_start) > 0``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bioplast.experiments.curl import chaos_sweep, phase_diagram
from bioplast.figures import pyplot, save_png
from bioplast.reproduce.claims import Claim, Outcome, combine

# theory grid of phase_diagram: fractions in steps of 0.02, so "a single flipped input" at
# c ≥ 2/3 (1/M ≤ 0.015 of M ≥ 67 inputs at N = 100) is the first non-zero grid point
FIRST_STEP = 0.02
# the simulation matches its own-size theory where it does at most 1 in 5 values of c off: a
# finite-size run decides "converged" on a 0.1 grid of fractions from 4 teachers, so an off-by-one
# grid step at a value of c near a jump of the curve is expected, not a disagreement
MATCH_SHARE = 0.8


def _parts(rows: list, chaos: list) -> list:
    below = [r for r in rows if r["c"] < 0.25]
    above = [r for r in rows if r["c"] >= 2 / 3]
    match = np.mean([r["sim_inputs"] == r["theory_small_inputs"] for r in rows])
    stable, unstable = chaos[0], [r for r in chaos if r["flipped_inputs"] > 0]
    chaotic = [r for r in unstable if r["lyapunov"] > 0 and r["order_parameter"] > 0]
    return [
        {
            "part": "c < 1/4: all inputs flipped, still stable",
            "paper": "critical fraction 1 for every c < 1/4",
            "ours": ", ".join(f"c = {r['c']:g}: {r['hidden_layer_flips']:g}" for r in below),
            "verdict": "reproduced"
            if below and all(r["hidden_layer_flips"] == 1.0 for r in below)
            else "not reproduced",
        },
        {
            "part": "c ≥ 2/3: one flipped input destabilises",
            "paper": "critical fraction = one input for every c ≥ 2/3",
            "ours": ", ".join(f"c = {r['c']:g}: {r['hidden_layer_flips']:g}" for r in above),
            "verdict": "reproduced"
            if above and all(r["hidden_layer_flips"] <= FIRST_STEP for r in above)
            else "not reproduced",
        },
        {
            "part": "learning follows the teacher-point theory (hidden-layer flips)",
            "paper": "simulated threshold = theory",
            "ours": f"equal at {match:.0%} of {len(rows)} values of c",
            "verdict": "reproduced" if match >= MATCH_SHARE else "not reproduced",
        },
        {
            "part": "chaos above the threshold (c = 4)",
            "paper": "λ_max > 0 and no convergence above; λ_max < 0 below",
            "ours": f"no flip: λ = {stable['lyapunov']:+.3f}, q = {stable['order_parameter']:+.1f}; "
            f"{len(chaotic)} of {len(unstable)} flipped settings chaotic",
            "verdict": "reproduced"
            if stable["lyapunov"] < 0 and stable["order_parameter"] < 0 and unstable and len(chaotic) == len(unstable)
            else "partly"
            if chaotic
            else "not reproduced",
        },
    ]


def _plot(rows: list, chaos: list, path: Path) -> None:
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    c = [r["c"] for r in rows]
    a.plot(c, [r["hidden_layer_flips"] for r in rows], marker="o", label="theory, N = 100")
    a.plot(c, [r["theory_small_inputs"] for r in rows], marker=".", ls="--", label="theory, simulated size")
    a.plot(c, [r["sim_inputs"] for r in rows], ls="none", marker="x", ms=8, label="simulation")
    a.axvline(0.25, color="gray", ls=":", lw=1)
    a.axvline(2 / 3, color="gray", ls="--", lw=1)
    a.set(xscale="log", xlabel="c = inputs / hidden", ylabel="critical fraction of flipped inputs", ylim=(0, 1.05))
    a.set_title("stable below the curve (dotted 1/4, dashed 2/3)", fontsize=9)
    a.legend(fontsize=8, frameon=False)
    f = [max(r["fraction"], 1e-3) for r in chaos]
    b.plot(f, [r["lyapunov"] for r in chaos], marker="o", label="largest Lyapunov exponent")
    b2 = b.twinx()
    b2.plot(f, [r["order_parameter"] for r in chaos], marker="s", color="C1", label="q = log₁₀(E_end / E_start)")
    b.axhline(0, color="gray", lw=1)
    b.set(xscale="log", xlabel="fraction of flipped inputs (0 drawn at 1e-3)", ylabel="λ_max per unit time")
    b2.set_ylabel("q")
    b.set_title("c = 4: learning either side of the threshold", fontsize=9)
    fig.legend(fontsize=8, frameon=False, loc="lower right")
    fig.tight_layout()
    save_png(fig, path)
    plt.close(fig)


def run(budget: str, out: Path, seed: int = 0) -> Outcome:
    if budget == "quick":
        rows = phase_diagram((0.2, 1.0), theory_hidden=40, theory_teachers=3, sim_teachers=1, steps=1000, seed=seed)
        chaos = chaos_sweep((0.0, 1.0), steps=200, seed=seed)
    else:
        rows, chaos = phase_diagram(seed=seed), chaos_sweep(seed=seed)
    details = _parts(rows, chaos)
    _plot(rows, chaos, out / "stability.png")
    verdicts = [d["verdict"] for d in details]
    verdict = combine(d["verdict"] for d in details)
    ours = f"{sum(v == 'reproduced' for v in verdicts)} of {len(verdicts)} statements hold"
    return Outcome(ours, verdict, "stability.png", tuple(details), {"phase": rows, "chaos": chaos})


CLAIM = Claim(
    name="curl-stability",
    title="Stability thresholds of curl learning and chaos above them",
    source="Ninou, Kadmon & Cayco-Gajic 2025, Figs. 2–4",
    paper="all inputs flipped is stable for c < 1/4; one flipped input destabilises for c ≥ 2/3; "
    "learning is chaotic above the threshold",
    run=run,
    departures="the theory at N = 100 hidden units and 10 teachers per point (the paper: N = 200); the "
    "simulation at N = 20 with 4 teachers on a 0.1 grid of fractions; chaos at c = 4 on a tanh network "
    "with 40 inputs and 10 hidden units",
)
