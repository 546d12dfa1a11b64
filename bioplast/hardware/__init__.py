"""Hardware: WHAT a substrate allows (bits, bounds, noise, asymmetry, energy, NIR).

Built so far: :func:`clip_bounds` (hard device bounds).  The kernels the
substrate transforms need (``to_grid``, ``sign_project``, ``clip``) are part of
every backend; device profiles, presets, energy and NIR are tracked in the
hardware issue.
"""
from .bounds import clip_bounds

__all__ = ["clip_bounds"]
