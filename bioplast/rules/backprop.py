"""Backpropagation baseline: the exact gradient, from torch autograd.

Backprop fits the contract as a delta rule whose modulator is not local:
for layer ``l`` with pre-activation ``a_l = W_l h_{l−1} + b_l``,
``−∂L/∂W_l = ⟨m_l h_{l−1}ᵀ⟩`` with ``m_l = −B ∂L/∂a_l`` (``L`` is the batch
mean loss).  :func:`bioplast.dynamics.feedforward.backprop_errors` computes every
``m_l`` with autograd and the rule turns them into directions with the same
kernels as every other rule, so comparisons differ only by where the error
signal comes from.
Rumelhart, Hinton & Williams (1986) Nature 323:533–536.
"""

from __future__ import annotations

from bioplast.core import Rule, RuleSpec


def backprop() -> Rule:
    r"""Per-layer backprop update ``ΔW_l = −∂L/∂W_l = ⟨m_l h_{l−1}ᵀ⟩``, ``m_l = −B ∂L/∂a_l``.

    ``signals.mod`` must hold ``m_l`` as computed by :func:`~bioplast.dynamics.feedforward.backprop_errors`
    (autograd through the whole network: the one non-local signal in
    bioplast, used as the baseline for every comparison).
    """

    def init(k, w):
        return ()

    def update(k, s, state, w):
        return k.outer_mean(s.mod, s.pre), state

    return Rule(
        init,
        update,
        RuleSpec(
            "backprop",
            "gradient",
            frozenset({"pre", "mod"}),
            "network",
            "ΔW_l = ⟨m_l h_{l−1}ᵀ⟩,  m_l = −B ∂L/∂a_l (autograd; non-local)",
            "Rumelhart, Hinton & Williams (1986) Nature 323:533",
        ),
    )


def feedback_alignment() -> Rule:
    r"""Feedback alignment (Lillicrap et al. 2016): the backprop update with errors carried
    down by fixed random matrices ``B_l`` instead of ``W_lᵀ``:
    ``m_L = −B ∂L/∂a_L``, ``m_l = (m_{l+1} B_{l+1}) ⊙ φ'(a_l)``, ``ΔW_l = ⟨m_l h_{l−1}ᵀ⟩``.

    The trainer draws each ``B_l`` once (shape and scale of ``W_l``'s init, from the run's seed)
    and hands the errors in as ``signals.mod``
    (:func:`~bioplast.dynamics.feedforward.backprop_errors` with ``feedback``).
    """
    rule = backprop()
    from dataclasses import replace

    return rule._replace(
        spec=replace(
            rule.spec,
            name="feedback_alignment",
            family="feedback alignment",
            params={"feedback": "random"},
            equation="ΔW_l = ⟨m_l h_{l−1}ᵀ⟩,  m_l = (m_{l+1} B_{l+1}) ⊙ φ'(a_l),  B fixed random",
            citation="Lillicrap, Cownden, Tweed & Akerman (2016) Nat. Commun. 7:13276",
        )
    )
