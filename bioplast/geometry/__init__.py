"""Geometry: HOW a rule's direction becomes an update (additive, masked, …)."""
from .additive import additive
from .mask import masked

__all__ = ["additive", "masked"]
