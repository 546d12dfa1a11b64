r"""Equilibrium propagation (EP): the contrast of two relaxed phases.

For the layered primitive function of :mod:`bioplast.dynamics.relaxation`,
``∂Φ/∂W_l = s_l s_{l−1}ᵀ``, so the EP estimate of ``−∂L/∂W_l`` is local:

* one-sided (Scellier & Bengio 2017, "Equilibrium Propagation: Bridging the
  Gap Between Energy-Based Models and Backpropagation"):
  ``ΔW_l = (⟨s_l^β s_{l−1}^βᵀ⟩ − ⟨s_l^0 s_{l−1}^0ᵀ⟩) / β`` — bias O(β);
* symmetric (Laborieux et al. 2021, "Scaling Equilibrium Propagation to
  Deep ConvNets by Drastically Reducing its Gradient Estimator Bias"):
  ``ΔW_l = (⟨s_l^{+β} s_{l−1}^{+β}ᵀ⟩ − ⟨s_l^{−β} s_{l−1}^{−β}ᵀ⟩) / (2β)`` — bias O(β²).

Both are the same rule on a :class:`~bioplast.core.Contrast`:
``(outer(nudged) − outer(free)) / beta``; the symmetric estimator passes the
``−β`` phase as ``free``, the ``+β`` phase as ``nudged`` and ``beta = 2β``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core import Contrast, Local, Rule, RuleSpec
from ..dynamics.relaxation import check_sizes, relax
from ..errors import ConfigError
from ..validate import positive_int

ESTIMATORS = ("one_sided", "symmetric")


def eqprop(beta: float = 0.1, free_steps: int = 30, nudge_steps: int = 10,
           estimator: str = "symmetric") -> Rule:
    r"""EP contrast rule ``ΔW = (⟨y^β x^βᵀ⟩ − ⟨y^0 x^0ᵀ⟩) / β`` on Contrast signals.

    The parameters describe the phases that produce the contrast (used by
    :func:`ep_estimate` callers such as the trainer): nudging strength
    ``beta`` (finite, non-zero), ``free_steps`` and ``nudge_steps`` (> 0) and
    the ``estimator`` (``one_sided`` or ``symmetric``).  Defaults follow
    Laborieux et al. (2021): β = 0.1, 30 free + 10 nudged steps.
    """
    params = {"beta": _check_beta(beta), "free_steps": positive_int("free_steps", free_steps),
              "nudge_steps": positive_int("nudge_steps", nudge_steps), "estimator": _check_estimator(estimator)}

    def update(k, c, state, w):
        return (k.outer_mean(c.nudged.post, c.nudged.pre) - k.outer_mean(c.free.post, c.free.pre)) / c.beta, state

    return Rule(lambda k, w: (), update, RuleSpec(
        "eqprop", "equilibrium propagation", frozenset({"pre", "post"}), "network",
        "ΔW = (⟨s_l^β s_{l−1}^βᵀ⟩ − ⟨s_l^0 s_{l−1}^0ᵀ⟩) / β", "Scellier & Bengio (2017) Front. Comput. Neurosci. 11:24",
        params, contrast=True))


class EPPhases(NamedTuple):
    contrasts: list     # one Contrast(free, nudged, beta) per layer, ready for the eqprop rule
    reports: list       # RelaxReport per phase
    free_states: list   # the free fixed point, s_1 … s_L


class EPEstimate(NamedTuple):
    weights: list  # directions ≈ −∂L/∂W_l
    biases: list   # directions ≈ −∂L/∂b_l
    reports: list


def _check_beta(beta) -> float:
    try:
        b = float(beta)
    except (TypeError, ValueError):
        raise ConfigError(f"beta must be a finite non-zero number, got {beta!r}") from None
    if not np.isfinite(b) or b == 0.0:
        raise ConfigError(f"beta must be a finite non-zero number, got {beta!r}")
    return b


def _check_estimator(estimator: str) -> str:
    if estimator not in ESTIMATORS:
        from ..errors import unknown_name

        raise unknown_name("estimator", estimator, ESTIMATORS)
    return estimator


def ep_phases(k, weights, biases, x, target, *, beta: float, free_steps: int, nudge_steps: int,
              activation: str = "tanh", estimator: str = "symmetric", tol: float | None = None) -> EPPhases:
    """Relax the free phase, then the nudged phase(s); return the per-layer contrasts.

    ``tol`` (optional) makes a free phase whose last-step residual exceeds it
    a :class:`~bioplast.errors.DivergenceError`: EP assumes a fixed point.
    """
    beta = _check_beta(beta)
    positive_int("free_steps", free_steps)
    positive_int("nudge_steps", nudge_steps)
    _check_estimator(estimator)
    check_sizes(weights, x.shape[1], target.shape[1])
    zeros = [k.zeros((x.shape[0], w.shape[0])) for w in weights]
    free, r0 = relax(k, weights, biases, x, zeros, free_steps, activation, phase="free", tol=tol)
    plus, r1 = relax(k, weights, biases, x, free, nudge_steps, activation, beta=beta, target=target,
                     phase="nudged(+β)")
    reports = [r0, r1]
    if estimator == "symmetric":
        low, r2 = relax(k, weights, biases, x, free, nudge_steps, activation, beta=-beta, target=target,
                        phase="nudged(−β)")
        reports.append(r2)
        scale = 2 * beta
    else:
        low, scale = free, beta
    contrasts = [Contrast(Local(x if l == 0 else low[l - 1], low[l]), Local(x if l == 0 else plus[l - 1], plus[l]),
                          scale) for l in range(len(weights))]
    return EPPhases(contrasts, reports, free)


def bias_direction(k, c: Contrast):
    """EP estimate for a bias (``∂Φ/∂b_l = s_l``): ``(⟨s_l^β⟩ − ⟨s_l^0⟩) / β``."""
    return k.batch_mean(c.nudged.post - c.free.post) / c.beta


def ep_estimate(k, weights, biases, x, target, *, beta: float, free_steps: int, nudge_steps: int,
                activation: str = "tanh", estimator: str = "symmetric", tol: float | None = None) -> EPEstimate:
    """The EP gradient estimate per layer (directions ≈ −∂L/∂θ, ``L = ½‖s_L − y‖²`` batch mean)."""
    ph = ep_phases(k, weights, biases, x, target, beta=beta, free_steps=free_steps, nudge_steps=nudge_steps,
                   activation=activation, estimator=estimator, tol=tol)
    rule = eqprop(beta, free_steps, nudge_steps, estimator)
    dws = [rule.update(k, c, (), w)[0] for c, w in zip(ph.contrasts, weights)]
    return EPEstimate(dws, [bias_direction(k, c) for c in ph.contrasts], ph.reports)
