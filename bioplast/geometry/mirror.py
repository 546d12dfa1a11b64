"""Mirror descent with p-norm potentials ``φ(w) = Σ |w|^p / p`` (p > 1).

Nemirovski & Yudin (1983); Gentile (2003), "The Robustness of the p-Norm
Algorithms".  The step is taken in the dual space and mapped back:

    θ = ∇φ(w) + η d,   ∇φ(w) = sign(w) |w|^{p−1}
    w ← ∇φ*(θ) = sign(θ) |θ|^{1/(p−1)}

``p = 2`` is the additive step; ``p → 1`` approaches the entropic geometry
(multiplicative updates), ``p > 2`` favours changing large weights less.
Unlike :func:`exponentiated`, signs can change (the dual crosses zero).
"""

from __future__ import annotations

from bioplast.core import Transform, stateless, transform_factory
from bioplast.errors import ConfigError
from bioplast.validate import positive


def dual_map(xp, w, p: float):
    """``∇φ(w) = sign(w) |w|^{p−1}``."""
    return xp.sign(w) * abs(w) ** (p - 1)


def primal_map(xp, theta, p: float):
    """``∇φ*(θ) = sign(θ) |θ|^{1/(p−1)}``, the inverse of :func:`dual_map`."""
    return xp.sign(theta) * abs(theta) ** (1.0 / (p - 1))


@transform_factory("mirror_descent")
def mirror_descent(lr: float, p: float) -> Transform:
    """``Δw = ∇φ*(∇φ(w) + η d) − w`` for the p-norm potential (``p > 1``)."""
    eta = positive("lr", lr)
    p = positive("p", p)
    if p <= 1:
        raise ConfigError(f"p-norm mirror descent needs p > 1 (p = 1 is not strictly convex), got {p!r}")

    def fn(k, d, w):
        xp = k.xp
        return primal_map(xp, dual_map(xp, w, p) + d * eta, p) - w

    return stateless(f"mirror_descent({eta:g}, p={p:g})", fn)
