"""Additive (Euclidean) geometry: ``update = η · direction``.

Mirror descent with the potential ½‖w‖²: the plain learning-rate step of
gradient descent and of most textbook local rules.
"""

from __future__ import annotations

from bioplast.core import Transform, stateless, transform_factory
from bioplast.validate import positive


@transform_factory("additive")
def additive(lr: float) -> Transform:
    """``Δw = η d`` with learning rate ``η = lr > 0``."""
    eta = positive("lr", lr)
    return stateless(f"additive({eta:g})", lambda k, d, w: d * eta)
