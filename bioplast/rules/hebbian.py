"""Classic correlation-based rules: Hebb, anti-Hebb, Oja, BCM and the delta rule.

All averages ``⟨·⟩`` are over the batch axis; ``x = pre``, ``y = post``,
``W[n_post, n_pre]``.  Each factory returns a :class:`~bioplast.core.Rule`
whose direction is the raw Δ before any learning rate (see
:func:`bioplast.geometry.additive`).
"""

from __future__ import annotations

from typing import NamedTuple

from bioplast.core import Rule, RuleSpec
from bioplast.validate import positive


def _none(k, w):
    return ()


def hebb() -> Rule:
    r"""Plain Hebbian rule: ``ΔW = ⟨y xᵀ⟩``.

    Unstable on its own (weights grow without bound along the principal
    component); pair it with a bound or normalisation transform.
    Hebb, D. O. (1949) *The Organization of Behavior*.
    """

    def update(k, s, state, w):
        return k.outer_mean(s.post, s.pre), state

    return Rule(
        _none,
        update,
        RuleSpec(
            "hebb",
            "hebbian",
            frozenset({"pre", "post"}),
            "feature",
            "ΔW = ⟨y xᵀ⟩",
            "Hebb (1949) The Organization of Behavior",
        ),
    )


def anti_hebb() -> Rule:
    r"""Anti-Hebbian rule: ``ΔW = −⟨y xᵀ⟩``.

    On lateral weights among one population (``pre = post = y``, diagonal
    masked with :func:`bioplast.geometry.masked`) it decorrelates the
    outputs: with ``y = x + M y`` the fixed point of ``ΔM_ij = −⟨y_i y_j⟩``
    (i ≠ j) is ``⟨y_i y_j⟩ = 0``.
    Földiák, P. (1990) "Forming sparse representations by local
    anti-Hebbian learning", Biological Cybernetics 64:165–170.
    """

    def update(k, s, state, w):
        return -k.outer_mean(s.post, s.pre), state

    return Rule(
        _none,
        update,
        RuleSpec(
            "anti_hebb",
            "hebbian",
            frozenset({"pre", "post"}),
            "lateral",
            "ΔW = −⟨y xᵀ⟩",
            "Földiák (1990) Biol. Cybern. 64:165",
        ),
    )


def oja() -> Rule:
    r"""Oja's rule: ``ΔW_ij = ⟨y_i x_j⟩ − ⟨y_i²⟩ W_ij``.

    For a linear neuron ``y = W x`` each row converges to the unit-norm
    principal eigenvector of the input covariance ``⟨x xᵀ⟩``; the decay
    term is the first-order expansion of Hebb followed by renormalisation.
    Oja, E. (1982) "A simplified neuron model as a principal component
    analyzer", J. Math. Biology 15:267–273.
    """

    def update(k, s, state, w):
        return k.outer_mean_decay(s.post, s.pre, w, k.batch_mean(s.post * s.post)), state

    return Rule(
        _none,
        update,
        RuleSpec(
            "oja",
            "hebbian",
            frozenset({"pre", "post", "w"}),
            "feature",
            "ΔW = ⟨y xᵀ⟩ − ⟨y²⟩ ⊙ W",
            "Oja (1982) J. Math. Biol. 15:267",
        ),
    )


class BCMState(NamedTuple):
    theta: object  # sliding threshold per postsynaptic neuron, [n_post]


def bcm(tau_theta: float = 100.0, theta0: float = 0.0) -> Rule:
    r"""BCM rule with a sliding threshold.

    ``ΔW = ⟨y (y − θ) xᵀ⟩`` and ``θ ← θ + (⟨y²⟩ − θ) / τ_θ``, the threshold
    being the running average of ``y²`` (Intrator & Cooper's objective form).
    Depression below θ and potentiation above it make a neuron selective to
    one of several input patterns.
    Bienenstock, Cooper & Munro (1982) J. Neurosci. 2:32–48;
    Intrator & Cooper (1992) Neural Networks 5:3–17.

    tau_theta: threshold time constant in update steps (> 0).
    theta0: initial threshold (>= 0).
    """
    tau = positive("tau_theta", tau_theta)
    theta0 = positive("theta0", theta0, allow_zero=True)

    def init(k, w):
        return BCMState(k.zeros((w.shape[0],)) + theta0)

    def update(k, s, state, w):
        y = s.post
        direction = k.outer_mean(y * (y - state.theta), s.pre)
        theta = state.theta + (k.batch_mean(y * y) - state.theta) / tau
        return direction, BCMState(theta)

    return Rule(
        init,
        update,
        RuleSpec(
            "bcm",
            "hebbian",
            frozenset({"pre", "post"}),
            "feature",
            "ΔW = ⟨y (y − θ) xᵀ⟩,  θ ← θ + (⟨y²⟩ − θ)/τ_θ",
            "Bienenstock, Cooper & Munro (1982) J. Neurosci. 2:32; Intrator & Cooper (1992)",
            {"tau_theta": tau, "theta0": theta0},
        ),
    )


def delta() -> Rule:
    r"""Delta (Widrow–Hoff / LMS) rule: ``ΔW = ⟨m xᵀ⟩``.

    ``m = mod`` is a per-neuron error, e.g. ``target − output``; for a
    softmax readout with cross-entropy, ``m = onehot − softmax`` makes the
    update the exact negative gradient.  Local: synapse ``ij`` reads only
    ``m_i`` and ``x_j``.
    Widrow & Hoff (1960) "Adaptive switching circuits", IRE WESCON.
    """

    def update(k, s, state, w):
        return k.outer_mean(s.mod, s.pre), state

    return Rule(
        _none,
        update,
        RuleSpec(
            "delta",
            "error-driven",
            frozenset({"pre", "mod"}),
            "readout",
            "ΔW = ⟨m xᵀ⟩",
            "Widrow & Hoff (1960) IRE WESCON Convention Record 4:96",
        ),
    )
