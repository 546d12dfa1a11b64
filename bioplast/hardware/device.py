r"""Device profiles: what a substrate does to every weight update, as data.

A :class:`DeviceProfile` is a plain record (as aihwkit's device configs are);
:func:`device_transforms` turns it into a chain of
:class:`~bioplast.core.Transform` steps appended after a rule's geometry, so
any rule runs "on" the device.  For a proposed update ``u`` of weight ``w``::

    0. arithmetic     update precision and learning epoch (bioplast.hardware.physics)
    1. device gain    u ← g_ij · (u⁺ · up + u⁻ · down)       g_ij ~ N(1, σ_d2d²), drawn once per device
    2. soft bounds    u⁺ ← u⁺ (w_max − w)/(w_max − w_min),  u⁻ ← u⁻ (w − w_min)/(w_max − w_min)
                      or exponential steps  u⁺ ← u⁺ e^{−γ z},  u⁻ ← u⁻ e^{−γ (1 − z)},
                      z = (w − w_min)/(w_max − w_min)  (``bounds="exponential"``, γ = ``step_nonlinearity``)
                      (or a differential pair G⁺ − G⁻, each device with its own bound: physics)
    3. write noise    u ← u (1 + σ_c2c ξ),  ξ ~ N(0, 1) per write (cycle-to-cycle)
    4. weight format  w + u is put on the grid of levels k·step, step = (w_max − w_min)/(2^bits − 1),
                      anchored at 0 when the range holds 0 (so rounding never flips a sign),
                      with nearest or stochastic rounding, and clipped to the range
    5. stuck devices  stay at their stuck level whatever the update (physics)

(1)–(3) follow the pulsed-update device models of analog crossbars
(Gokmen & Vlasov 2016, "Acceleration of deep neural network training with
resistive cross-point devices", Front. Neurosci. 10:333; aihwkit's
``SoftBoundsDevice``); (4) is fixed-point weight storage with stochastic
rounding as in Loihi's learning engine (Davies et al. 2018, IEEE Micro
38:82) and Gupta et al. 2015 ("Deep learning with limited numerical
precision", ICML).  Steps a profile does not use are left out of the chain,
so the ``ideal`` profile adds nothing at all.

Reading is noisy too (``read_noise``): every forward pass sees
``W + σ_read · S · Ξ`` with fresh ``Ξ ~ N(0, 1)`` per read and per device,
``S = max(|w_min|, |w_max|)`` (aihwkit's forward weight noise, ``w_noise``,
is the same model).  A batch of ``B`` inputs is ``B`` reads, so the noise a
neuron receives is ``ν_b = Ξ_b h_b``: Gaussian, independent across neurons
and samples, with standard deviation ``σ_read S ‖h_b‖``.  :func:`read_noise`
draws ``ν`` in that output-referred form, exact in distribution and
``n_pre`` times cheaper than drawing ``Ξ_b`` for every sample.

Randomness: every stochastic step draws from the counter-based stream of
``(seed, step, salt)`` (:mod:`bioplast.backends.counter_rng`), with the
profile seed and a step counter kept in the transform state (two integers),
so runs reproduce under a seed, every backend draws the same numbers, and
checkpoints store the counter, not a generator object.

Speed: the elementwise stages (update register, gain, state-dependent step,
write noise, grid or bounds) are wrapped into one :func:`fused_write`; a
backend with a fused kernel (numba, torch on CPU) runs them in one pass over
the weights with the same draws, any other runs them one by one.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from typing import NamedTuple, Optional

from bioplast.backends.counter_rng import stream_key
from bioplast.backends.device_write import GRID_STOCHASTIC, WriteSpec
from bioplast.core import Transform, stateless
from bioplast.errors import ConfigError
from bioplast.validate import positive
from bioplast.hardware.energy import EnergyCosts

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
    bits: Optional[int] = None
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
    update_bits: Optional[int] = None  # fixed-point width of the update register (needs ``bits``)
    learning_epoch: int = 1  # updates written every k steps
    differential: bool = False  # w = G⁺ − G⁻ (needs w_min = −w_max)
    stuck: float = 0.0  # fraction of devices stuck at a random level
    drift_nu: float = 0.0  # power-law drift exponent ν̄ (bioplast.hardware.physics.age)
    drift_nu_std: float = 0.0
    drift_t0: float = 1.0  # seconds after programming at which drift starts
    gain_mismatch: float = 0.0  # relative spread σ_g of each neuron's gain (fixed pattern per chip)
    offset_mismatch: float = 0.0  # spread σ_o of each neuron's offset, in units of its drive
    inference_only: bool = False
    fan_in: Optional[int] = None
    max_neurons: Optional[int] = None  # neurons the chip holds (all layers / populations together)
    sign_mode: str = "mixed"  # "excitatory": weights on [0, S]; "inhibitory": on [−S, 0]; S = max(|w_min|, |w_max|)
    state_bits: Optional[int] = None  # spiking neurons' state in fixed point, in units of the weight step
    # "paired": every synapse row has a fixed sign, so a signed input drives two rows (w = w_E − w_I)
    row_signs: str = "free"
    sources: str = ""
    energy: Optional["EnergyCosts"] = None  # per-operation energies (bioplast.hardware.energy)

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
            raise ConfigError(f"profile {self.name!r}: a {self.bits}-bit weight format needs a range; "
                              "bounds='none' is for float weights")
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
            raise ConfigError(f"profile {self.name!r}: learning_epoch must be a positive integer number of steps, "
                              f"got {self.learning_epoch!r}")
        if self.update_bits is not None:
            if self.bits is None:
                raise ConfigError(f"profile {self.name!r}: update_bits = {self.update_bits!r} sets the update "
                                  "register's width relative to the weight's; give bits too")
            if not isinstance(self.update_bits, int) or not self.bits < self.update_bits <= 32:
                raise ConfigError(f"profile {self.name!r}: update_bits must be an integer in ({self.bits}, 32] "
                                  f"(wider than the {self.bits}-bit weights), got {self.update_bits!r}")
        if self.differential and (self.bounds == "none" or self.w_min != -self.w_max):
            raise ConfigError(f"profile {self.name!r}: a differential pair G⁺ − G⁻ spans [−w_max, w_max]; "
                              f"got w_min = {self.w_min!r}, w_max = {self.w_max!r}, bounds = {self.bounds!r}")
        if self.sign_mode not in SIGN_MODES:
            raise ConfigError(f"profile {self.name!r}: sign_mode must be one of {SIGN_MODES}, got {self.sign_mode!r}")
        if self.sign_mode != "mixed" and (self.bounds == "none" or self.differential):
            raise ConfigError(f"profile {self.name!r}: sign_mode {self.sign_mode!r} needs a bounded one-device "
                              f"weight (got bounds = {self.bounds!r}, differential = {self.differential!r})")
        if self.state_bits is not None:
            if self.bits is None:
                raise ConfigError(f"profile {self.name!r}: state_bits = {self.state_bits!r} counts the neuron state "
                                  "in units of the weight step; give bits too")
            if isinstance(self.state_bits, bool) or not isinstance(self.state_bits, int) or \
                    not 2 <= self.state_bits <= 32:
                raise ConfigError(f"profile {self.name!r}: state_bits must be an integer in [2, 32] or None, "
                                  f"got {self.state_bits!r}")
        if self.row_signs not in ROW_SIGNS:
            raise ConfigError(f"profile {self.name!r}: row_signs must be one of {ROW_SIGNS}, got {self.row_signs!r}")
        if self.row_signs == "paired" and (self.bits is None or self.sign_mode != "mixed" or self.differential
                                           or self.w_min != -self.w_max):
            raise ConfigError(f"profile {self.name!r}: row_signs 'paired' puts a signed weight on two one-signed "
                              f"{self.bits}-bit rows; it needs bits, sign_mode 'mixed', one device per row and "
                              f"w_min = -w_max (got bits = {self.bits!r}, sign_mode = {self.sign_mode!r}, "
                              f"differential = {self.differential!r}, range [{self.w_min!r}, {self.w_max!r}])")
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
        return weight_grid(self.bits, *self.weight_range, paired=self.row_signs == "paired")

    @property
    def weight_range(self) -> tuple:
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
            raise ConfigError(f"the network has {total} neurons ({parts}); substrate {self.name!r} holds at most "
                              f"{self.max_neurons}")

    def check_fan_in(self, shape, what: str = "weights") -> None:
        """A clear error at build time when a layer has more inputs than a neuron may take."""
        if self.fan_in is not None and int(shape[1]) > self.fan_in:
            raise ConfigError(f"{what} {tuple(shape)} give each neuron {shape[1]} inputs; substrate "
                              f"{self.name!r} allows at most {self.fan_in} (fan-in)")


class NoiseState(NamedTuple):
    seed: int
    step: int


DEVICE_GAIN_SALT, WRITE_NOISE_SALT, ROUNDING_SALT, PAIRED_GAIN_SALT = 0, 1, 2, 3
READ_NOISE_SALT = 16  # read noise of layer l: 16 + l


def _key(state: NoiseState, salt: int) -> tuple:
    # the counter-based stream of draw (seed, step, salt): reproducible on every backend, and the state
    # stays two integers
    return stream_key(state.seed, state.step, salt)


def read_scale(profile: DeviceProfile) -> float:
    """``σ_read · S``: the standard deviation of one weight read (0 for a noiseless profile)."""
    span = 1.0 if profile.bounds == "none" else max(abs(profile.w_min), abs(profile.w_max))
    return profile.read_noise * span


def read_std(h, scale: float):
    """``s_b = σ_read S ‖h_b‖``: the standard deviation of the read noise each neuron receives for
    input ``h[B, n_pre]`` (``scale`` = :func:`read_scale`), ``[B]``."""
    return ((h * h).sum(1) ** 0.5) * scale


def read_noise(k, profile: DeviceProfile, seed: int, read: int):
    """The noise of read number ``read`` as a hook ``(layer, h, n_post) -> ν[B, n_post]`` for
    :func:`~bioplast.dynamics.feedforward.forward` (``None`` when the profile reads exactly).

    ``ν_b = σ_read S ‖h_b‖ ζ_b``, ``ζ ~ N(0, I)``: the drive error of ``B`` independent noisy reads
    of a weight matrix (see the module docstring).  ``ζ`` is the counter-based draw of
    ``(seed, read, layer)``, so every backend sees the same noise.
    """
    scale = read_scale(profile)
    if scale == 0:
        return None

    def hook(layer, h, n_post):
        return k.read_error(stream_key(seed, read, READ_NOISE_SALT + int(layer)), h, scale, n_post)

    return hook


def device_gain(profile: DeviceProfile, seed: int = 0) -> Transform:
    """Step 1: up/down asymmetry times a fixed per-device gain ``N(1, σ_d2d²)`` (clipped at 0).

    Under ``row_signs = "paired"`` each weight has two devices, one per row: a weight above 0 (or at 0
    and moving up) is written on its excitatory row's device, else on its inhibitory row's, each
    with its own gain (an update that crosses 0 is written by the device it starts on)."""
    up, down, d2d = profile.up, profile.down, profile.d2d
    paired = profile.row_signs == "paired"

    def init(k, w):
        if d2d == 0:
            return ()
        salts = (DEVICE_GAIN_SALT, PAIRED_GAIN_SALT) if paired else (DEVICE_GAIN_SALT,)
        gains = (1 + d2d * k.counter_normal(stream_key(seed, 0, salt), tuple(w.shape)) for salt in salts)
        return tuple(g * (g > 0) for g in gains)

    def update(k, u, state, w):
        scaled = k.xp.where(u > 0, u * up, u * down)
        gain = written_gain(k, state, u, w)
        return (scaled if gain is None else scaled * gain), state

    return Transform(init, update, f"device_gain(up={up:g}, down={down:g}, d2d={d2d:g}{', paired' if paired else ''})",
                     {"kind": "device_gain", "up": up, "down": down, "d2d": d2d, "seed": int(seed), "paired": paired})


def written_gain(k, state, u, w):
    """The gain of the device each update is written on: ``None`` (no spread), the one gain array, or
    for paired rows the excitatory row's where ``w > 0`` (or ``w = 0`` and ``u > 0``), else the
    inhibitory row's."""
    if not state:
        return None
    if len(state) == 1:
        return state[0]
    excitatory = (w > 0) | ((w == 0) & (u > 0))
    return k.xp.where(excitatory, state[0], state[1])


def soft_bounds(lo: float, hi: float) -> Transform:
    """Step 2: potentiation shrinks towards ``hi`` and depression towards ``lo`` (linear soft bounds)."""
    span = hi - lo
    return stateless(f"soft_bounds({lo:g}, {hi:g})",
                     lambda k, u, w: u * ((u > 0) * (hi - w) + (u < 0) * (w - lo)) / span,
                     {"kind": "soft_bounds", "lo": lo, "hi": hi})


def exponential_steps(lo: float, hi: float, gamma: float) -> Transform:
    """Step 2, exponential form: a device's step shrinks exponentially as it nears the bound it moves
    towards, ``u⁺ e^{−γ z}`` and ``u⁻ e^{−γ (1 − z)}`` with ``z = (w − lo)/(hi − lo)`` (the state
    dependence of pulsed analog devices with a saturating conductance response, the form of aihwkit's
    ``ExpStepDevice``; γ = 0 is a constant step).  Unlike linear soft bounds the step never vanishes,
    so the chain clips to ``[lo, hi]`` afterwards."""
    span = hi - lo

    def scale(k, u, w):
        z = (w - lo) / span
        return u * ((u > 0) * k.xp.exp(-gamma * z) + (u < 0) * k.xp.exp(-gamma * (1 - z)))

    return stateless(f"exponential_steps({lo:g}, {hi:g}, γ={gamma:g})", scale,
                     {"kind": "exponential_steps", "lo": lo, "hi": hi, "gamma": gamma})


def write_noise(sigma: float, seed: int = 0) -> Transform:
    """Step 3: each programmed step is off by a relative Gaussian error ``σ`` (cycle to cycle)."""

    def init(k, w):
        return NoiseState(int(seed), 0)

    def update(k, u, state, w):
        xi = k.counter_normal(_key(state, WRITE_NOISE_SALT), tuple(u.shape))
        return u * (1 + sigma * xi), NoiseState(state.seed, state.step + 1)

    return Transform(init, update, f"write_noise({sigma:g})",
                     {"kind": "write_noise", "sigma": sigma, "seed": int(seed)})


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
        step = max(abs(lo), abs(hi)) / (2 ** bits - 1)
        return 0.0, step, math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9)
    step = (hi - lo) / (2 ** bits - 1)
    origin = 0.0 if lo <= 0 <= hi else lo
    k_min = math.ceil((lo - origin) / step - 1e-9)
    k_max = math.floor((hi - origin) / step + 1e-9)
    return origin, step, k_min, k_max


def quantize(bits: int, lo: float, hi: float, rounding: str = "nearest", seed: int = 0,
             paired: bool = False) -> Transform:
    """Step 4: ``w + u`` lands on a level of :func:`weight_grid` (``paired``: of two fixed-sign rows);
    ``stochastic`` rounding goes up with probability equal to the fractional position, so
    ``E[w_new] = w + u`` inside the range."""
    if rounding not in ROUNDING:
        raise ConfigError(f"rounding must be one of {ROUNDING}, got {rounding!r}")
    origin, step, k_min, k_max = weight_grid(bits, lo, hi, paired)

    def init(k, w):
        return NoiseState(int(seed), 0)

    def update(k, u, state, w):
        target = k.clip((w + u - origin) / step, float(k_min), float(k_max))
        if rounding == "nearest":
            levels = k.to_grid(target, 1.0, float(k_min), float(k_max))
        else:
            floor = k.xp.floor(target)
            levels = floor + (k.counter_uniform(_key(state, ROUNDING_SALT), tuple(u.shape)) < target - floor)
        return levels * step + origin - w, NoiseState(state.seed, state.step + 1)

    return Transform(init, update, f"quantize({bits} bits, {rounding})",
                     {"kind": "quantize", "bits": bits, "lo": lo, "hi": hi, "rounding": rounding, "seed": int(seed),
                      "paired": bool(paired)})


def device_transforms(profile: DeviceProfile, seed: int = 0) -> tuple:
    """The chain of transforms that puts a rule's updates through ``profile`` (empty for ``ideal``,
    whose float weights have no range and no device effects)."""
    from bioplast.hardware.bounds import clip_bounds

    if profile.inference_only:
        raise ConfigError(f"substrate {profile.name!r} is inference only: it has no on-chip plasticity; "
                          "train on another substrate and deploy the weights")
    from bioplast.hardware import physics

    chain = []
    if profile.update_bits is not None:
        lsb = profile.grid[1] / 2 ** (profile.update_bits - profile.bits)
        chain.append(physics.update_precision(profile.update_bits, lsb))
    if profile.learning_epoch > 1:
        chain.append(physics.learning_epoch(profile.learning_epoch))
    if profile.up != 1 or profile.down != 1 or profile.d2d > 0:
        chain.append(device_gain(profile, seed))
    if profile.differential:
        chain.append(physics.differential_pair(profile.weight_range[1], soft=profile.bounds == "soft"))
    elif profile.bounds == "soft":
        chain.append(soft_bounds(*profile.weight_range))
    elif profile.bounds == "exponential":
        chain.append(exponential_steps(*profile.weight_range, profile.step_nonlinearity))
    if profile.write_noise > 0:
        chain.append(write_noise(profile.write_noise, seed))
    if profile.bits is not None:
        chain.append(quantize(profile.bits, *profile.weight_range, profile.rounding, seed,
                              profile.row_signs == "paired"))
    elif profile.bounds != "none":
        chain.append(clip_bounds(*profile.weight_range))
    if profile.stuck > 0:
        chain.append(physics.stuck_devices(profile.stuck, *profile.weight_range, seed, _levels(profile)))
    return _fuse_runs(chain)


# the stages one fused write can run, in the order it runs them (a WriteSpec's order)
_FUSED_ORDER = {"update_precision": 0, "device_gain": 1, "soft_bounds": 2, "exponential_steps": 2,
                "write_noise": 3, "quantize": 4, "clip_bounds": 4}


def _fuse_runs(chain) -> tuple:
    """``chain`` with every run of two or more consecutive fusable stages, in write order, replaced by
    its :func:`fused_write` (a lone stage stays as it is: fused spiking engines recognise them)."""
    out, run = [], []

    def flush():
        out.extend([fused_write(tuple(run))] if len(run) > 1 else run)
        run.clear()

    for t in chain:
        rank = _FUSED_ORDER.get((t.params or {}).get("kind"))
        if rank is None or (run and rank <= _FUSED_ORDER[run[-1].params["kind"]]):
            flush()
        (run if rank is not None else out).append(t)
    flush()
    return tuple(out)


def write_spec(stages) -> WriteSpec:
    """The :class:`~bioplast.backends.device_write.WriteSpec` of fusable ``stages`` (in write order)."""
    from bioplast.backends import device_write as dw

    f = dict(update_lsb=0.0, update_top=0.0, gain=0, up=1.0, down=1.0, bounds=dw.BOUNDS_NONE, lo=0.0, hi=1.0,
             gamma=0.0, write_sigma=0.0, grid=dw.GRID_NONE, origin=0.0, step=1.0, k_min=0.0, k_max=0.0,
             clip_lo=0.0, clip_hi=0.0)
    for t in stages:
        p = t.params
        kind = p["kind"]
        if kind == "update_precision":
            f.update(update_lsb=p["lsb"], update_top=float(2 ** (p["bits"] - 1) - 1))
        elif kind == "device_gain":
            f.update(gain=1, up=p["up"], down=p["down"])
        elif kind in ("soft_bounds", "exponential_steps"):
            f.update(bounds=dw.BOUNDS_SOFT if kind == "soft_bounds" else dw.BOUNDS_EXPONENTIAL, lo=p["lo"],
                     hi=p["hi"], gamma=p.get("gamma", 0.0))
        elif kind == "write_noise":
            f.update(write_sigma=p["sigma"])
        elif kind == "quantize":
            origin, step, k_min, k_max = weight_grid(p["bits"], p["lo"], p["hi"], p.get("paired", False))
            f.update(grid=dw.GRID_NEAREST if p["rounding"] == "nearest" else dw.GRID_STOCHASTIC, origin=origin,
                     step=step, k_min=float(k_min), k_max=float(k_max))
        elif kind == "clip_bounds":
            f.update(grid=dw.GRID_CLIP, clip_lo=p["lo"], clip_hi=p["hi"])
    return dw.WriteSpec(**{k: (float(v) if isinstance(v, float) else v) for k, v in f.items()})


def fused_write(stages: tuple) -> Transform:
    """``stages`` (fusable device transforms, in write order) as one transform: a backend with a fused
    kernel (:meth:`~bioplast.backends.base.Backend.device_write`) makes the whole write in one pass;
    any other runs the stages in turn.  Both draw the same numbers (each stage's counter-based stream,
    keyed by its own state), so the two agree to rounding; the state is the stages' states."""
    from bioplast.core import chain_init, chain_update

    spec = write_spec(stages)
    kinds = [t.params["kind"] for t in stages]

    def update(k, u, states, w):
        if not k.can_device_write(w, u):  # before the gain: the staged path selects it itself
            return chain_update(k, stages, u, states, w)
        by_kind = dict(zip(kinds, states))
        gain = written_gain(k, by_kind.get("device_gain") or (), u, w)
        noise = by_kind.get("write_noise")
        rounding = by_kind.get("quantize") if spec.grid == GRID_STOCHASTIC else None
        out = k.device_write(w, u, gain, spec,
                             _key(noise, WRITE_NOISE_SALT) if noise else (0, 0),
                             _key(rounding, ROUNDING_SALT) if rounding else (0, 0))
        return out, tuple(s._replace(step=s.step + 1) if isinstance(s, NoiseState) else s for s in states)

    return Transform(lambda k, w: chain_init(k, stages, w), update,
                     "device_write(" + " → ".join(t.name for t in stages) + ")",
                     {"kind": "device_write", "stages": [dict(t.params) for t in stages]})


def _levels(profile: DeviceProfile):
    """The weight levels of a quantised profile (stuck devices sit on one), else ``None``."""
    if profile.bits is None:
        return None
    origin, step, k_min, k_max = profile.grid
    return origin + step * np.arange(k_min, k_max + 1)


def place(k, profile: Optional[DeviceProfile], w, stream: int, keep_sign: bool = False):
    """One synaptic matrix on its own devices: ``(w as programmed, the transforms its updates go
    through)``, both drawn from ``stream`` (each matrix of a network gets its own); ``(w, ())``
    without a profile.  ``keep_sign`` as in :func:`program`."""
    if profile is None:
        return w, ()
    return program(k, profile, w, stream, keep_sign), device_transforms(profile, stream)


def program(k, profile: DeviceProfile, w, seed: int = 0, keep_sign: bool = False):
    """Weights as written onto the device before learning: clipped and, with a weight format, rounded
    to the nearest level, with stuck devices at their stuck values (the state a chip starts a learning
    run from; ``seed`` as in :func:`device_transforms`).  ``keep_sign``: a nonzero weight that would
    round to 0 is written one level away from 0 on its own side instead — for multiplicative (EG)
    learning, which could never move a weight that starts at exactly 0."""
    profile.check_fan_in(tuple(w.shape))
    if profile.bounds == "none":
        return w
    original = w
    w = k.clip(w, *profile.weight_range)
    if profile.bits is not None:
        origin, step, k_min, k_max = profile.grid
        w = k.to_grid((w - origin) / step, 1.0, float(k_min), float(k_max)) * step + origin
        if keep_sign:
            lo, hi = profile.weight_range
            nudge = k.clip(k.xp.sign(original) * step, lo, hi)
            w = w + (w == 0) * nudge
    if profile.stuck > 0:
        from bioplast.hardware.physics import stuck_values

        mask, values = stuck_values(tuple(w.shape), profile.stuck, *profile.weight_range, seed,
                                    _levels(profile))
        w = w * k.asarray(1.0 - mask) + k.asarray(values)
    return w
