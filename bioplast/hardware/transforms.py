r"""The update physics of a device, one transform per stage.

:func:`~bioplast.hardware.chain.device_transforms` chains these stages after a rule's geometry,
so any rule runs "on" the device.  For a proposed update ``u`` of weight ``w``::

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

Randomness: every stochastic step draws from the counter-based stream of
``(seed, step, salt)`` (:mod:`bioplast.backends.counter_rng`), with the
profile seed and a step counter kept in the transform state (two integers),
so runs reproduce under a seed, every backend draws the same numbers, and
checkpoints store the counter, not a generator object.

The elementwise stages run fused where a backend has a kernel for them: :mod:`bioplast.hardware.fusion`.
"""

from __future__ import annotations

from typing import NamedTuple

from bioplast.backends.counter_rng import stream_key
from bioplast.core import Transform, stateless, transform_factory
from bioplast.errors import ConfigError
from bioplast.hardware.profile import ROUNDING, weight_grid


class NoiseState(NamedTuple):
    seed: int
    step: int


DEVICE_GAIN_SALT, WRITE_NOISE_SALT, ROUNDING_SALT, PAIRED_GAIN_SALT = 0, 1, 2, 3


def draw_key(state: NoiseState, salt: int) -> tuple:
    # the counter-based stream of draw (seed, step, salt): reproducible on every backend, and the state
    # stays two integers
    return stream_key(state.seed, state.step, salt)


@transform_factory("device_gain")
def device_gain(up: float = 1.0, down: float = 1.0, d2d: float = 0.0, seed: int = 0, paired: bool = False) -> Transform:
    """Step 1: up/down asymmetry times a fixed per-device gain ``N(1, σ_d2d²)`` (clipped at 0).

    ``paired`` (a profile's ``row_signs = "paired"``): each weight has two devices, one per row: a
    weight above 0 (or at 0 and moving up) is written on its excitatory row's device, else on its
    inhibitory row's, each with its own gain (an update that crosses 0 is written by the device it
    starts on)."""
    up, down, d2d, paired = float(up), float(down), float(d2d), bool(paired)

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

    return Transform(init, update, f"device_gain(up={up:g}, down={down:g}, d2d={d2d:g}{', paired' if paired else ''})")


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


@transform_factory("soft_bounds")
def soft_bounds(lo: float, hi: float) -> Transform:
    """Step 2: potentiation shrinks towards ``hi`` and depression towards ``lo`` (linear soft bounds)."""
    span = hi - lo
    return stateless(
        f"soft_bounds({lo:g}, {hi:g})", lambda k, u, w: u * ((u > 0) * (hi - w) + (u < 0) * (w - lo)) / span
    )


@transform_factory("exponential_steps")
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

    return stateless(f"exponential_steps({lo:g}, {hi:g}, γ={gamma:g})", scale)


@transform_factory("write_noise")
def write_noise(sigma: float, seed: int = 0) -> Transform:
    """Step 3: each programmed step is off by a relative Gaussian error ``σ`` (cycle to cycle)."""

    def init(k, w):
        return NoiseState(int(seed), 0)

    def update(k, u, state, w):
        xi = k.counter_normal(draw_key(state, WRITE_NOISE_SALT), tuple(u.shape))
        return u * (1 + sigma * xi), NoiseState(state.seed, state.step + 1)

    return Transform(init, update, f"write_noise({sigma:g})")


@transform_factory("quantize")
def quantize(
    bits: int, lo: float, hi: float, rounding: str = "nearest", seed: int = 0, paired: bool = False
) -> Transform:
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
            levels = floor + (k.counter_uniform(draw_key(state, ROUNDING_SALT), tuple(u.shape)) < target - floor)
        return levels * step + origin - w, NoiseState(state.seed, state.step + 1)

    return Transform(init, update, f"quantize({bits} bits, {rounding})")
