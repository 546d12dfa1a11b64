"""Additive (Euclidean) geometry: ``update = η · direction``.

Mirror descent with the potential ½‖w‖²: the plain learning-rate step of
gradient descent and of most textbook local rules.
"""
from __future__ import annotations

from bioplast.core import Transform, stateless
from bioplast.validate import positive


def additive(lr: float) -> Transform:
    """``Δw = η d`` with learning rate ``η = lr > 0``."""
    eta = positive("lr", lr)
    return stateless(f"additive({eta:g})", lambda k, d, w: d * eta, {"kind": "additive", "lr": eta})
