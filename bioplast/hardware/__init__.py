"""Hardware: WHAT a substrate allows — weight format, bounds, update and read physics (``device``),
named presets and third-party profiles (``substrates``), hard bounds (``bounds``).

``placement``: a spiking network's synapses on a substrate (:func:`on_substrate`);
``energy``: energy estimates from a run's operation counts; ``nir``: export and import of
networks as NIR graphs with a plasticity sidecar.
"""
from .bounds import clip_bounds
from .device import (DeviceProfile, device_gain, device_transforms, exponential_steps, place, program, quantize,
                     read_noise, read_scale, soft_bounds, write_noise)
from .energy import EnergyCosts, estimate_energy
from .placement import on_substrate
from .substrates import PRESETS, get_substrate, substrates

__all__ = ["clip_bounds", "DeviceProfile", "device_gain", "device_transforms", "exponential_steps", "place", "program",
           "quantize",
           "read_noise", "read_scale", "soft_bounds", "write_noise", "PRESETS", "get_substrate", "substrates",
           "EnergyCosts", "estimate_energy", "on_substrate"]
