"""Hardware: WHAT a substrate allows — weight format, bounds, update and read physics (``device``),
named presets and third-party profiles (``substrates``), hard bounds (``bounds``), energy estimates
from a run's operation counts (``energy``)."""
from bioplast.hardware.bounds import clip_bounds
from bioplast.hardware.device import (DeviceProfile, device_gain, device_transforms, exponential_steps, place,
                                      program, quantize, read_noise, read_scale, soft_bounds, write_noise)
from bioplast.hardware.energy import EnergyCosts, estimate_energy
from bioplast.hardware.substrates import PRESETS, get_substrate, substrates

__all__ = ["clip_bounds", "DeviceProfile", "device_gain", "device_transforms", "exponential_steps", "place", "program",
           "quantize", "read_noise", "read_scale", "soft_bounds", "write_noise", "PRESETS", "get_substrate",
           "substrates", "EnergyCosts", "estimate_energy"]
