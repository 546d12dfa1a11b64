r"""Equilibrium propagation (EP): contrasts of relaxed phases, the whole family.

For the layered primitive function of :mod:`bioplast.dynamics.relaxation`,
``∂Φ/∂W_l = s_l s_{l−1}ᵀ``; with ``F(β) = ⟨s_l^β s_{l−1}^βᵀ⟩`` (the batch mean
at the fixed point nudged with strength ``β``), ``F'(0) = −∂L/∂W_l``.  The
estimators differ in how they take that derivative:

* ``one_sided`` — classic EP (Scellier & Bengio 2017, "Equilibrium
  Propagation: Bridging the Gap Between Energy-Based Models and
  Backpropagation"): ``(F(β) − F(0)) / β``, bias O(β);
* ``random_sign`` — the same with the sign of β drawn at random for every
  batch (Laborieux et al. 2021): the O(β) bias averages out over batches;
* ``symmetric`` — (Laborieux et al. 2021, "Scaling Equilibrium Propagation to
  Deep ConvNets by Drastically Reducing its Gradient Estimator Bias"):
  ``(F(β) − F(−β)) / 2β``, bias O(β²);
* ``holomorphic`` — (Laborieux & Zenke 2022, "Holomorphic Equilibrium
  Propagation Computes Exact Gradients Through Finite Size Oscillations"):
  complex states nudged with ``β_n = |β| e^{2πin/N}``, ``n = 0 … N−1``, and
  the Cauchy integral ``F'(0) = (1/2πi)∮F(β)/β² dβ`` as the discrete Fourier
  mean ``(1/N) Σ_n F(β_n)/β_n``: exact up to aliasing, O(|β|^N).  ``N = 1``
  is one-sided EP and ``N = 2`` symmetric EP.

All are the same local rule, ``ΔW = (⟨y^β x^βᵀ⟩ − ⟨y^0 x^0ᵀ⟩) / β``, on
:class:`~bioplast.core.Contrast` signals (the symmetric estimator passes the
``−β`` phase as ``free`` and ``2β`` as ``beta``); holomorphic EP gives it an
:class:`~bioplast.core.Oscillation` of complex contrasts.

**Generalized EP** (``gen_eqprop``; Scellier et al. 2018, Laborieux & Zenke
2024, "Improving equilibrium propagation without weight symmetry through
Jacobian homeostasis"): separate bottom-up ``W_l`` and top-down ``B_l``.  At
the fixed point ``s = ρ(h)`` with ``h = A s + c − β∇C``, ``D = diag ρ'(h)``:
``ds/dβ = D (A D − I)⁻¹ ∇C`` while ``−dL/dθ = (∂h/∂θ)ᵀ D (AᵀD − I)⁻¹ ∇C``.
The update ``(∂h/∂θ)ᵀ ds/dβ`` — for ``W_l``: ``⟨(ds_l/dβ) s_{l−1}^0ᵀ⟩``, for
``B_l``: ``⟨(ds_{l−1}/dβ) s_l^0ᵀ⟩``, the post-synaptic change times the free
pre-synaptic rate — is therefore exact iff ``A = Aᵀ`` and biased by the
asymmetry otherwise.  **Jacobian homeostasis** adds ``−λ ∇H`` with
``H = ½‖J − Jᵀ‖²_F`` for the Jacobian ``J`` of the vector field in rate
coordinates, ``F(s) = A s + c − ρ⁻¹(s)``; its couplings ``A`` are the whole
state dependence of ``J − Jᵀ`` here, so ``H = Σ_l ‖W_l − B_lᵀ‖²_F`` (the
diagonal cancels).  The gradient is local to each reciprocal pair
(``∂H/∂W_l = 2(W_l − B_lᵀ)``); the tests check ``H`` against autograd's
Jacobian of the vector field.
"""

from __future__ import annotations

import math

import numpy as np

from bioplast.core import Oscillation, Rule, RuleSpec
from bioplast.errors import ConfigError, unknown_name
from bioplast.validate import in_range, positive, positive_int

ESTIMATORS = ("one_sided", "symmetric", "random_sign", "holomorphic")
COSTS = ("mse", "cross_entropy")  # the output cost the nudge descends: squared error, or softmax cross-entropy

CITATIONS = {
    "one_sided": "Scellier & Bengio (2017) Front. Comput. Neurosci. 11:24",
    "symmetric": "Laborieux et al. (2021) Front. Neurosci. 15:633674",
    "random_sign": "Laborieux et al. (2021) Front. Neurosci. 15:633674",
    "holomorphic": "Laborieux & Zenke (2022) NeurIPS 35",
    "generalized": "Laborieux & Zenke (2024) ICLR; Scellier et al. (2018) arXiv:1808.04873",
}


def contrast_direction(k, c, state, w):
    """The rule's update on :class:`~bioplast.core.Contrast` (or :class:`~bioplast.core.Oscillation`)
    signals: ``(⟨y^β x^βᵀ⟩ − ⟨y^0 x^0ᵀ⟩) / β``, the real part of the weighted sum for an oscillation."""
    if isinstance(c, Oscillation):
        total = None
        for cn, weight in zip(c.contrasts, c.weights, strict=True):
            d = contrast_direction(k, cn, state, w)[0] * weight
            total = d if total is None else total + d
        return total.real, state
    if c.nudged.pre is c.free.pre:  # one product instead of two: ⟨(y^β − y^0) xᵀ⟩, by bilinearity
        return k.outer_mean(c.nudged.post - c.free.post, c.free.pre) / c.beta, state
    return (k.outer_mean(c.nudged.post, c.nudged.pre) - k.outer_mean(c.free.post, c.free.pre)) / c.beta, state


#: relaxation steps per phase at most: far past convergence for any network EP trains (tens to
#: hundreds are typical), and a bound that keeps a mistyped count from running for days
MAX_STEPS = 100_000


def _params(beta, free_steps, nudge_steps, estimator, cost, dt, points) -> dict:
    return {
        "beta": check_beta(beta),
        "free_steps": positive_int("free_steps", free_steps, maximum=MAX_STEPS),
        "nudge_steps": positive_int("nudge_steps", nudge_steps, maximum=MAX_STEPS),
        "estimator": check_estimator(estimator),
        "cost": check_cost(cost),
        "dt": check_dt(dt),
        "points": positive_int("points", points, maximum=10_000),
    }


def eqprop(
    beta: float = 0.1,
    free_steps: int = 30,
    nudge_steps: int = 10,
    estimator: str = "symmetric",
    cost: str = "mse",
    dt: float = 1.0,
    points: int = 4,
) -> Rule:
    r"""EP contrast rule ``ΔW = (⟨y^β x^βᵀ⟩ − ⟨y^0 x^0ᵀ⟩) / β`` on Contrast signals.

    The parameters describe the phases that produce the contrast (used by
    :func:`ep_phases` callers such as the trainer): nudging strength
    ``beta`` (finite, non-zero), ``free_steps`` and ``nudge_steps`` (> 0),
    the ``estimator`` (``one_sided``, ``symmetric``, ``random_sign``,
    ``holomorphic`` with ``points`` = N), the output ``cost`` (``mse`` or
    ``cross_entropy`` through a softmax readout) and the leak step ``dt``
    of the relaxation.  Defaults follow Laborieux et al. (2021): β = 0.1,
    30 free + 10 nudged steps.
    """
    p = _params(beta, free_steps, nudge_steps, estimator, cost, dt, points)
    return Rule(
        lambda k, w: (),
        contrast_direction,
        RuleSpec(
            "eqprop",
            "equilibrium propagation",
            frozenset({"pre", "post"}),
            "network",
            "ΔW = (⟨s_l^β s_{l−1}^βᵀ⟩ − ⟨s_l^0 s_{l−1}^0ᵀ⟩) / β",
            CITATIONS[p["estimator"]],
            p,
            contrast=True,
        ),
    )


def holo_eqprop(
    beta: float = 0.5, free_steps: int = 30, nudge_steps: int = 10, points: int = 8, cost: str = "mse", dt: float = 1.0
) -> Rule:
    r"""Holomorphic EP: ``ΔW = Re (1/N) Σ_n (⟨s_l^{β_n} s_{l−1}^{β_n}ᵀ⟩ − ⟨s_l^0 s_{l−1}^0ᵀ⟩) / β_n``,
    ``β_n = |β| e^{2πin/N}`` (Laborieux & Zenke 2022): exact gradients at finite ``|β|``."""
    rule = eqprop(beta, free_steps, nudge_steps, "holomorphic", cost, dt, points)
    return rule._replace(
        spec=_respec(
            rule.spec, "holo_eqprop", "ΔW = Re (1/N) Σ_n (⟨s_l^{β_n} s_{l−1}^{β_n}ᵀ⟩ − ⟨s_l^0 s_{l−1}^0ᵀ⟩)/β_n"
        )
    )


def gen_eqprop(
    beta: float = 0.1,
    free_steps: int = 30,
    nudge_steps: int = 10,
    estimator: str = "symmetric",
    cost: str = "mse",
    dt: float = 1.0,
    points: int = 4,
    asymmetry: float = 0.0,
    homeostasis: float = 0.0,
) -> Rule:
    r"""Generalized EP for non-symmetric networks: ``ΔW_l = ⟨(s_l^β − s_l^{−β}) s_{l−1}^0ᵀ⟩ / 2β``
    (post-synaptic change × free pre-synaptic rate), the same for the top-down
    ``B_l``, plus Jacobian homeostasis ``−λ ∂H/∂θ``, ``H = ½‖J − Jᵀ‖²_F``.

    ``asymmetry`` ∈ [0, 1] sets the initial top-down weights
    ``B_l = (1 − a) W_lᵀ + a R_l`` (``R_l`` an independent draw of the same
    init); ``homeostasis`` is ``λ ≥ 0``.
    """
    p = _params(beta, free_steps, nudge_steps, estimator, cost, dt, points)
    p["asymmetry"] = in_range("asymmetry", asymmetry, 0.0, 1.0)
    p["homeostasis"] = positive("homeostasis", homeostasis, allow_zero=True)
    return Rule(
        lambda k, w: (),
        contrast_direction,
        RuleSpec(
            "gen_eqprop",
            "equilibrium propagation",
            frozenset({"pre", "post"}),
            "network",
            "ΔW_l = ⟨(s_l^β − s_l^{−β}) s_{l−1}^0ᵀ⟩/2β − λ ∂‖J − Jᵀ‖²/2∂W_l",
            CITATIONS["generalized"],
            p,
            contrast=True,
        ),
    )


def _respec(spec: RuleSpec, name: str, equation: str) -> RuleSpec:
    from dataclasses import replace

    return replace(spec, name=name, equation=equation)


def check_dt(dt) -> float:
    """The leak step of the relaxation ``s ← s + dt (ρ(h) − s)``: in ``(0, 1]``."""
    v = positive("dt", dt)
    if v > 1:
        raise ConfigError(f"dt must be in (0, 1] (the leak step of ds = dt·(ρ(h) − s)), got {dt!r}")
    return v


def check_beta(beta) -> float:
    try:
        b = float(beta)
    except (TypeError, ValueError):
        raise ConfigError(f"beta must be a finite non-zero number, got {beta!r}") from None
    if not np.isfinite(b) or b == 0.0:
        raise ConfigError(f"beta must be a finite non-zero number, got {beta!r}")
    return b


def check_estimator(estimator: str) -> str:
    if estimator not in ESTIMATORS:
        raise unknown_name("estimator", estimator, ESTIMATORS)
    return estimator


def check_cost(cost: str) -> str:
    if cost not in COSTS:
        raise unknown_name("cost", cost, COSTS)
    return cost


def holomorphic_points(beta: float, n: int) -> list:
    """``(β_n, weight_n)`` for the points that must be relaxed: by conjugate
    symmetry (real weights and data: ``s^{β̄} = conj s^β``) only ``n ≤ N/2``,
    the complex ones counted twice (their real part is taken)."""
    r = abs(beta)
    out: list[tuple[complex, float]] = [(r, 1.0 / n)]
    for i in range(1, n // 2 + 1):
        if 2 * i == n:
            out.append((-r, 1.0 / n))
        else:
            out.append((r * complex(math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)), 2.0 / n))
    return out


def bias_direction(k, c):
    """EP estimate for a bias (``∂h_l/∂b_l = 1``): ``(⟨s_l^β⟩ − ⟨s_l^0⟩) / β``."""
    if isinstance(c, Oscillation):
        return sum(bias_direction(k, cn) * w for cn, w in zip(c.contrasts, c.weights, strict=True)).real
    return k.batch_mean(c.nudged.post - c.free.post) / c.beta
