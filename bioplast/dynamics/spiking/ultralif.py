r"""UltraLIF: a differentiable LIF whose threshold is a log-sum-exp soft maximum.

After Miñoza (2026), "UltraLIF: Fully Differentiable Spiking Neural Networks
via Ultradiscretization and Max-Plus Algebra" (arXiv:2602.11206).
Ultradiscretization replaces ``max(a, b)`` by its max-plus relaxation
``LSE_ε(a, b) = ε log(e^{a/ε} + e^{b/ε})``, which tends to ``max`` as ``ε → 0``.
The spike is the slope of the relaxed rectifier ``LSE_ε(0, x)``::

    u[t] = β v[t−1] + I[t]                                  (leak and input)
    s[t] = ∂/∂x LSE_ε(0, x) |_{x = u[t] − θ} = exp((x − LSE_ε(0, x))/ε)   (= logistic(x/ε))
    v[t] = u[t] − θ s[t]                                    (soft reset by subtraction)

The same smooth function is used forward and backward (no surrogate).  As
``ε → 0``, ``s → H(u − θ)`` wherever ``u ≠ θ`` and the trajectory tends to the
hard LIF with immediate subtractive reset —
``from_snntorch(β, θ, "subtract", reset_delay=False)`` — which the tests check.
This module implements the paper's principle with the equations above; the
paper's learnable per-layer ε is the ``eps`` argument (a tensor works).
"""

from __future__ import annotations

from bioplast.errors import ConfigError


def soft_spike(xp, x, eps):
    """``exp((x − LSE_ε(0, x))/ε)``, computed without overflow for any ``x/ε``."""
    z = x / eps
    lse = xp.maximum(z, 0 * z) + xp.log1p(xp.exp(-xp.abs(z)))  # LSE(0, z) / 1, stable
    return xp.exp(z - lse)


def ultralif(current, beta: float, threshold: float = 1.0, eps: float = 0.01, xp=None):
    """Run UltraLIF over ``current[T, B, n]`` (numpy or torch); returns ``(spikes, v)``, both ``[T, B, n]``.

    With torch tensors the whole trajectory is differentiable in ``current``, ``beta``,
    ``threshold`` and ``eps``.
    """
    if xp is None:
        import numpy as np

        xp = np
        if type(current).__module__.startswith("torch"):
            import torch as xp
    plain = all(isinstance(x, (int, float)) for x in (beta, eps))  # tensors (learnable ε) are the caller's
    if plain and not (0 < beta <= 1 and eps > 0):
        raise ConfigError(f"ultralif needs 0 < beta <= 1 and eps > 0, got beta={beta!r}, eps={eps!r}")
    v = 0 * current[0]
    spikes, trace = [], []
    for t in range(current.shape[0]):
        u = beta * v + current[t]
        s = soft_spike(xp, u - threshold, eps)
        v = u - threshold * s
        spikes.append(s)
        trace.append(v)
    return xp.stack(spikes), xp.stack(trace)
