"""A substrate's device profile: weight format, range and update physics, as a plain record.

A :class:`DeviceProfile` is data (as aihwkit's device configs are);
:func:`bioplast.hardware.chain.device_transforms` turns it into the chain of transforms a rule's
updates go through, and :class:`bioplast.hardware.chip.Chip` programs weights onto it.  The
equations of every stage are in :mod:`bioplast.hardware.transforms`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bioplast.errors import ConfigError
from bioplast.hardware.energy import EnergyCosts
from bioplast.validate import positive

ROUNDING = ("nearest", "stochastic")
ROW_SIGNS = ("free", "paired")
SIGN_MODES = ("mixed", "excitatory", "inhibitory")
BOUNDS = ("hard", "soft", "exponential", "none")  # "none": no weight range at all (float weights only)


@dataclass(frozen=True)
class DeviceProfile:
    """Weight format and update physics of one substrate (see the module docstring for the equations).

    ``bits=None`` keeps floating-point weights; ``inference_only`` substrates
    refuse plasticity; ``fan_in`` is the most inputs a neuron may have.
    ``max_neurons`` the most neurons the chip holds (checked when a network is built on it).
    ``sources`` cites where each figure comes from or marks it as an assumption.
    """

    name: str
    bits: int | None = None
    w_min: float = -1.0
    w_max: float = 1.0
    rounding: str = "nearest"
    bounds: str = "hard"
    up: float = 1.0
    down: float = 1.0
    write_noise: float = 0.0
    d2d: float = 0.0
    read_noise: float = 0.0
    step_nonlinearity: float = 0.0  # γ of exponential steps (bounds="exponential")
    # more physics (bioplast.hardware.physics); all off by default
    update_bits: int | None = None  # fixed-point width of the update register (needs ``bits``)
    learning_epoch: int = 1  # updates written every k steps
    differential: bool = False  # w = G⁺ − G⁻ (needs w_min = −w_max)
    stuck: float = 0.0  # fraction of devices stuck at a random level
    drift_nu: float = 0.0  # power-law drift exponent ν̄ (bioplast.hardware.physics.age)
    drift_nu_std: float = 0.0
    drift_t0: float = 1.0  # seconds after programming at which drift starts
    gain_mismatch: float = 0.0  # relative spread σ_g of each neuron's gain (fixed pattern per chip)
    offset_mismatch: float = 0.0  # spread σ_o of each neuron's offset, in units of its drive
    inference_only: bool = False
    fan_in: int | None = None
    max_neurons: int | None = None  # neurons the chip holds (all layers / populations together)
    sign_mode: str = "mixed"  # "excitatory": weights on [0, S]; "inhibitory": on [−S, 0]; S = max(|w_min|, |w_max|)
    state_bits: int | None = None  # spiking neurons' state in fixed point, in units of the weight step
    # "paired": every synapse row has a fixed sign, so a signed input drives two rows (w = w_E − w_I)
    row_signs: str = "free"
    sources: str = ""
    energy: EnergyCosts | None = None  # per-operation energies (bioplast.hardware.energy)

    def __post_init__(self):
        if self.bits is not None and (not isinstance(self.bits, int) or not 1 <= self.bits <= 32):
            raise ConfigError(f"profile {self.name!r}: bits must be an integer in [1, 32] or None, got {self.bits!r}")
        if not (math.isfinite(self.w_min) and math.isfinite(self.w_max) and self.w_min < self.w_max):
            raise ConfigError(f"profile {self.name!r}: need finite w_min < w_max, got {self.w_min!r}, {self.w_max!r}")
        if self.rounding not in ROUNDING:
            raise ConfigError(f"profile {self.name!r}: rounding must be one of {ROUNDING}, got {self.rounding!r}")
        if self.bounds not in BOUNDS:
            raise ConfigError(f"profile {self.name!r}: bounds must be one of {BOUNDS}, got {self.bounds!r}")
        if self.bounds == "none" and self.bits is not None:
            raise ConfigError(
                f"profile {self.name!r}: a {self.bits}-bit weight format needs a range; "
                "bounds='none' is for float weights"
            )
        for f in ("up", "down"):
            positive(f"profile {self.name!r} {f}", getattr(self, f))
        for f in ("write_noise", "d2d", "read_noise", "step_nonlinearity"):
            positive(f"profile {self.name!r} {f}", getattr(self, f), allow_zero=True)
        for f in ("drift_nu", "drift_nu_std", "gain_mismatch", "offset_mismatch"):
            positive(f"profile {self.name!r} {f}", getattr(self, f), allow_zero=True)
        positive(f"profile {self.name!r} drift_t0", self.drift_t0)
        if not 0 <= self.stuck < 1:
            raise ConfigError(f"profile {self.name!r}: stuck is a fraction of devices in [0, 1), got {self.stuck!r}")
        if not isinstance(self.learning_epoch, int) or self.learning_epoch < 1:
            raise ConfigError(
                f"profile {self.name!r}: learning_epoch must be a positive integer number of steps, "
                f"got {self.learning_epoch!r}"
            )
        if self.update_bits is not None:
            if self.bits is None:
                raise ConfigError(
                    f"profile {self.name!r}: update_bits = {self.update_bits!r} sets the update "
                    "register's width relative to the weight's; give bits too"
                )
            if not isinstance(self.update_bits, int) or not self.bits < self.update_bits <= 32:
                raise ConfigError(
                    f"profile {self.name!r}: update_bits must be an integer in ({self.bits}, 32] "
                    f"(wider than the {self.bits}-bit weights), got {self.update_bits!r}"
                )
        if self.differential and (self.bounds == "none" or self.w_min != -self.w_max):
            raise ConfigError(
                f"profile {self.name!r}: a differential pair G⁺ − G⁻ spans [−w_max, w_max]; "
                f"got w_min = {self.w_min!r}, w_max = {self.w_max!r}, bounds = {self.bounds!r}"
            )
        if self.sign_mode not in SIGN_MODES:
            raise ConfigError(f"profile {self.name!r}: sign_mode must be one of {SIGN_MODES}, got {self.sign_mode!r}")
        if self.sign_mode != "mixed" and (self.bounds == "none" or self.differential):
            raise ConfigError(
                f"profile {self.name!r}: sign_mode {self.sign_mode!r} needs a bounded one-device "
                f"weight (got bounds = {self.bounds!r}, differential = {self.differential!r})"
            )
        if self.state_bits is not None:
            if self.bits is None:
                raise ConfigError(
                    f"profile {self.name!r}: state_bits = {self.state_bits!r} counts the neuron state "
                    "in units of the weight step; give bits too"
                )
            if (
                isinstance(self.state_bits, bool)
                or not isinstance(self.state_bits, int)
                or not 2 <= self.state_bits <= 32
            ):
                raise ConfigError(
                    f"profile {self.name!r}: state_bits must be an integer in [2, 32] or None, got {self.state_bits!r}"
                )
        if self.row_signs not in ROW_SIGNS:
            raise ConfigError(f"profile {self.name!r}: row_signs must be one of {ROW_SIGNS}, got {self.row_signs!r}")
        if self.row_signs == "paired" and (
            self.bits is None or self.sign_mode != "mixed" or self.differential or self.w_min != -self.w_max
        ):
            raise ConfigError(
                f"profile {self.name!r}: row_signs 'paired' puts a signed weight on two one-signed "
                f"{self.bits}-bit rows; it needs bits, sign_mode 'mixed', one device per row and "
                f"w_min = -w_max (got bits = {self.bits!r}, sign_mode = {self.sign_mode!r}, "
                f"differential = {self.differential!r}, range [{self.w_min!r}, {self.w_max!r}])"
            )
        for f in ("fan_in", "max_neurons"):
            v = getattr(self, f)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ConfigError(f"profile {self.name!r}: {f} must be a positive integer or None, got {v!r}")

    @property
    def state_grid(self):
        """``(step, top)`` of the spiking neurons' fixed-point state — the integer arithmetic of a digital
        chip, where an input spike adds its integer weight to the state: ``step`` is the weight step,
        ``top = (2^(state_bits − 1) − 1)·step`` — or ``None`` (exact state)."""
        if self.state_bits is None:
            return None
        step = self.grid[1]
        return step, (2 ** (self.state_bits - 1) - 1) * step

    @property
    def grid(self) -> tuple:
        """``(origin, step, k_min, k_max)`` of the weight format (:func:`weight_grid`; ``bits`` needed)."""
        if self.bits is None:
            raise ConfigError(f"substrate {self.name!r} has no weight format (bits); its grid is undefined")
        lo, hi = self.weight_range
        return weight_grid(self.bits, lo, hi, paired=self.row_signs == "paired")

    @property
    def weight_range(self) -> tuple[float, float]:
        """``(lo, hi)`` the weights live in: ``[w_min, w_max]``, or its one-signed half of magnitude
        ``S = max(|w_min|, |w_max|)`` under an excitatory or inhibitory sign mode (Loihi's synapse sign
        modes: one-signed synapses spend every bit on magnitude, Davies et al. 2018)."""
        span = max(abs(self.w_min), abs(self.w_max))
        ranges = {"mixed": (self.w_min, self.w_max), "excitatory": (0.0, span), "inhibitory": (-span, 0.0)}
        return ranges[self.sign_mode]

    def check_neurons(self, counts: dict) -> None:
        """A clear error at build time when a network has more neurons than the chip holds;
        ``counts``: layer or population name → neurons."""
        total = sum(int(n) for n in counts.values())
        if self.max_neurons is not None and total > self.max_neurons:
            parts = ", ".join(f"{name} {n}" for name, n in counts.items())
            raise ConfigError(
                f"the network has {total} neurons ({parts}); substrate {self.name!r} holds at most {self.max_neurons}"
            )

    def check_fan_in(self, shape, what: str = "weights") -> None:
        """A clear error at build time when a layer has more inputs than a neuron may take."""
        if self.fan_in is not None and int(shape[1]) > self.fan_in:
            raise ConfigError(
                f"{what} {tuple(shape)} give each neuron {shape[1]} inputs; substrate "
                f"{self.name!r} allows at most {self.fan_in} (fan-in)"
            )


def weight_grid(bits: int, lo: float, hi: float, paired: bool = False):
    """``(origin, step, k_min, k_max)``: the levels ``origin + k·step``, ``k_min ≤ k ≤ k_max``.

    ``step = (hi − lo)/(2^bits − 1)``.  A range that contains 0 is anchored at 0, so
    0 is a level and no rounding can flip a weight's sign (sign-magnitude storage:
    ``[−1, 1]`` at 8 bits gives the 255 levels ``k·2/255``, ``|k| ≤ 127``); a range
    that does not is anchored at ``lo`` (``2^bits`` levels from ``lo`` to ``hi``).
    ``paired``: a signed weight ``w_E − w_I`` of two one-signed ``bits``-bit rows (BrainScaleS-2's
    fixed-sign rows): ``step = max(|lo|, |hi|)/(2^bits − 1)`` and ``|k| ≤ 2^bits − 1``, twice the
    levels of one signed device.
    """
    if paired:
        step = max(abs(lo), abs(hi)) / (2**bits - 1)
        return 0.0, step, math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    step = (hi - lo) / (2**bits - 1)
    origin = 0.0 if lo <= 0 <= hi else lo
    k_min = math.ceil((lo - origin) / step - 1e-9)
    k_max = math.floor((hi - origin) / step + 1e-9)
    return origin, step, k_min, k_max


def levels(profile: DeviceProfile):
    """The weight levels of a quantised profile (stuck devices sit on one), else ``None``."""
    if profile.bits is None:
        return None
    origin, step, k_min, k_max = profile.grid
    return origin + step * np.arange(k_min, k_max + 1)
