"""Hardware: WHAT a substrate allows (bits, bounds, noise, asymmetry, energy, NIR).

The kernels the substrate transforms need (``to_grid``, ``sign_project``)
are already part of every backend; the device profiles and presets are
tracked in the hardware issue and not built yet.
"""
