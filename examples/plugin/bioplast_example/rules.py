r"""Contrastive Hebbian learning (Movellan 1991), as a plugin rule.

The network relaxes free, then with its output weakly clamped towards the target; every synapse
changes by the difference of its two correlations,

    ΔW = ⟨y⁺ x⁺ᵀ⟩ − ⟨y⁻ x⁻ᵀ⟩          (x, y: pre- and postsynaptic rates; +: clamped, −: free)

— equilibrium propagation's contrast without the division by the clamping strength β, so the
step size grows with β (Movellan 1991, "Contrastive Hebbian learning in the continuous Hopfield
model"; Xie & Seung 2003 relate it to backprop).  The rule declares ``contrast=True`` and the
phase parameters bioplast's EP network reads, so ``bioplast train --rule contrastive_hebb`` trains
it in that network.
"""

from __future__ import annotations

from bioplast.core import Rule, RuleSpec


def contrastive_hebb(
    beta: float = 0.5, free_steps: int = 20, nudge_steps: int = 10, cost: str = "cross_entropy"
) -> Rule:
    """``ΔW = ⟨y⁺x⁺ᵀ⟩ − ⟨y⁻x⁻ᵀ⟩`` with the output clamped by ``beta`` (module docstring)."""
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta!r}")

    def update(k, c, state, w):
        return k.outer_mean(c.nudged.post, c.nudged.pre) - k.outer_mean(c.free.post, c.free.pre), state

    params = {
        "beta": float(beta),
        "free_steps": int(free_steps),
        "nudge_steps": int(nudge_steps),
        "estimator": "one_sided",
        "cost": cost,
        "dt": 1.0,
        "points": 1,
    }
    return Rule(
        lambda k, w: (),
        update,
        RuleSpec(
            "contrastive_hebb",
            "contrastive Hebbian",
            frozenset({"pre", "post"}),
            "network",
            "ΔW = ⟨y⁺ x⁺ᵀ⟩ − ⟨y⁻ x⁻ᵀ⟩",
            "Movellan (1991) Connectionist Models Summer School",
            params,
            contrast=True,
        ),
    )
