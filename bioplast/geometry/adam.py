"""Adam: per-synapse step sizes from running moments of the direction.

Kingma & Ba (2015), "Adam: A Method for Stochastic Optimization".  Used by
the published EP reference code (Laborieux et al. 2021) and therefore by the
EP benchmarks; like every transform it acts on any rule's direction.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from bioplast.core import Transform, transform_factory
from bioplast.validate import in_range, positive


class AdamState(NamedTuple):
    m: Any  # first moment of the direction
    v: Any  # second moment
    steps: int  # steps taken (not ``count``: that would shadow ``tuple.count``)


@transform_factory("adam")
def adam(lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Transform:
    r"""Adam on the rule's direction ``d`` (``−∇L`` for a gradient rule)::

        m ← b₁ m + (1 − b₁) d,    v ← b₂ v + (1 − b₂) d²,    t ← t + 1
        Δw = η · m̂ / (√v̂ + ε),    m̂ = m / (1 − b₁ᵗ),  v̂ = v / (1 − b₂ᵗ)

    With ``d = −g`` this is exactly ``torch.optim.Adam`` on the gradient
    ``g`` (``m`` flips sign, ``v`` does not); the tests check it step by step.
    """
    eta = positive("lr", lr)
    b1 = in_range("b1", b1, 0.0, 0.999999)
    b2 = in_range("b2", b2, 0.0, 0.999999)
    eps = positive("eps", eps)

    def init(k, w):
        return AdamState(k.zeros(tuple(w.shape)), k.zeros(tuple(w.shape)), 0)

    def update(k, d, state, w):
        count = state.steps + 1
        step, m, v = k.adam_step(state.m, state.v, d, b1, b2, eta / (1 - b1**count), 1 / (1 - b2**count), eps)
        return step, AdamState(m, v, count)

    return Transform(init, update, f"adam({eta:g})")
