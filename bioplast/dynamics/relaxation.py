r"""Relaxation of a layered energy-based network to its fixed point (EP dynamics).

Layers ``s_0 = x`` (clamped), ``s_1 … s_L``; weights ``W_l[n_l, n_{l−1}]``,
biases ``b_l``.  The primitive function (Laborieux et al. 2021, Scellier &
Bengio 2017 §2 with ``Φ = −E`` up to the ``½‖s‖²`` term, see below) is

    Φ(x, s; θ) = Σ_l s_lᵀ (W_l s_{l−1} + b_l),

and a nudged phase adds ``−β C(s_L, y)``, with ``C = ½‖s_L − y‖²``.  One
relaxation step updates every layer at once from the previous states:

    s_l ← ρ(∂Φ_β/∂s_l) = ρ(W_l s_{l−1} + b_l + W_{l+1}ᵀ s_{l+1} [− β (s_L − y) if l = L]).

Relation to the energy form: for the Hopfield-like energy
``E = ½Σ‖s_l‖² − Σ s_lᵀ(W_l s_{l−1} + b_l)`` of Scellier & Bengio, the
primitive form's fixed points ``s = ρ(∂Φ/∂s)`` are those of the projected
energy descent ``s ← ρ(s − ε ∂E/∂s)`` with ``ε = 1`` (``Φ = ½‖s‖² − E``),
since ``s − ∂E/∂s = ∂Φ/∂s``.  ``tests/dynamics`` checks this identity.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import ConfigError, DivergenceError
from ..validate import positive_int
from .activations import activation as _activation


class RelaxReport(NamedTuple):
    phase: str
    steps: int
    residual: float  # max |s_t − s_{t−1}| at the last step


def drives(k, weights, biases, x, states, beta: float = 0.0, target=None, input_drive=None):
    """``∂Φ_β/∂s_l`` for every layer (a list like ``states``).

    ``input_drive`` is ``W_1 x + b_1``, constant during a phase: pass it to
    skip recomputing the (usually largest) product every step.
    """
    n = len(states)
    out = []
    for l in range(n):
        if l == 0 and input_drive is not None:
            d = input_drive
        else:
            d = k.linear(x if l == 0 else states[l - 1], weights[l], biases[l])
        if l + 1 < n:
            d = d + k.linear(states[l + 1], weights[l + 1].T)
        if l == n - 1 and beta != 0.0:
            d = d - beta * (states[l] - target)
        out.append(d)
    return out


def relax(k, weights, biases, x, states, steps: int, activation: str, *, beta: float = 0.0, target=None,
          phase: str = "free", tol: float | None = None):
    """Run ``steps`` synchronous updates ``s ← ρ(∂Φ_β/∂s)``.

    Returns ``(states, RelaxReport)``.  Non-finite states, or a final
    residual above ``tol`` when ``tol`` is given, raise
    :class:`~bioplast.errors.DivergenceError` naming the phase and step.
    Finiteness is checked once per phase, not per step (it costs a scan).
    """
    positive_int(f"{phase} steps", steps)
    act = _activation(activation)
    xp = k.xp
    prev = states
    input_drive = k.linear(x, weights[0], biases[0])  # constant while x is clamped
    for _ in range(steps):
        prev, states = states, [act(xp, d) for d in drives(k, weights, biases, x, states, beta, target, input_drive)]
    residual = max(float(abs(k.to_numpy(s - p)).max()) for s, p in zip(states, prev))
    if not np.isfinite(residual):
        raise DivergenceError(f"relaxation produced non-finite states in the {phase} phase by step {steps}")
    if tol is not None and residual > tol:
        raise DivergenceError(f"relaxation did not converge in the {phase} phase: residual {residual:.3g} "
                              f"after {steps} steps exceeds tol {tol:g}")
    return states, RelaxReport(phase, steps, residual)


def check_sizes(weights, x_dim: int, target_dim: int | None = None) -> None:
    """Layer sizes must chain and match the data."""
    if weights[0].shape[1] != x_dim:
        raise ConfigError(f"first layer expects {weights[0].shape[1]} inputs but the data has {x_dim} features")
    for l in range(1, len(weights)):
        if weights[l].shape[1] != weights[l - 1].shape[0]:
            raise ConfigError(f"layer {l} expects {weights[l].shape[1]} inputs but layer {l - 1} has "
                              f"{weights[l - 1].shape[0]} units")
    if target_dim is not None and weights[-1].shape[0] != target_dim:
        raise ConfigError(f"output layer has {weights[-1].shape[0]} units but targets have {target_dim} columns")
