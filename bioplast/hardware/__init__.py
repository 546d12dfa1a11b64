"""Hardware: WHAT a substrate allows — weight format, bounds, update physics (``device``),
named presets and third-party profiles (``substrates``), hard bounds (``bounds``).

``energy``: energy estimates from a run's operation counts.  NIR export is
tracked in the hardware issue and not built yet.
"""
from .bounds import clip_bounds
from .device import (DeviceProfile, device_gain, device_transforms, program, quantize, soft_bounds,
                     write_noise)
from .energy import EnergyCosts, estimate_energy
from .substrates import PRESETS, get_substrate, substrates

__all__ = ["clip_bounds", "DeviceProfile", "device_gain", "device_transforms", "program", "quantize",
           "soft_bounds", "write_noise", "PRESETS", "get_substrate", "substrates", "EnergyCosts",
           "estimate_energy"]
