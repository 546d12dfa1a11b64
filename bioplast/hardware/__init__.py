"""Hardware: WHAT a substrate allows.

``profile`` (the :class:`DeviceProfile` record), ``transforms`` (the update physics, one stage
each), ``chain`` (a profile's chain of stages; weights as programmed), ``fusion`` (elementwise
stages fused into one write, planned once), ``reads`` (noisy reads), ``physics`` (update
arithmetic, learning epochs, differential pairs, stuck devices, drift, neuron mismatch),
``bounds`` (hard bounds), ``energy`` (estimates from operation counts), ``substrates`` (named
presets and third-party profiles) and ``chip`` (one :class:`Chip` per run).
"""

from bioplast.hardware.bounds import clip_bounds
from bioplast.hardware.chain import device_transforms, program
from bioplast.hardware.chip import Chip, Neurons
from bioplast.hardware.energy import EnergyCosts, estimate_energy
from bioplast.hardware.profile import DeviceProfile
from bioplast.hardware.reads import Reads, read_noise, read_scale
from bioplast.hardware.substrates import PRESETS, get_substrate, substrates
from bioplast.hardware.transforms import device_gain, exponential_steps, quantize, soft_bounds, write_noise

__all__ = [
    "Chip",
    "Neurons",
    "Reads",
    "clip_bounds",
    "DeviceProfile",
    "device_gain",
    "device_transforms",
    "exponential_steps",
    "program",
    "quantize",
    "read_noise",
    "read_scale",
    "soft_bounds",
    "write_noise",
    "PRESETS",
    "get_substrate",
    "substrates",
    "EnergyCosts",
    "estimate_energy",
]
