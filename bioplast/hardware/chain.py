"""A profile's chain of transforms, and weights as programmed onto its devices."""

from __future__ import annotations

from bioplast.errors import ConfigError
from bioplast.hardware import physics
from bioplast.hardware.bounds import clip_bounds
from bioplast.hardware.fusion import fuse_runs
from bioplast.hardware.profile import DeviceProfile, levels
from bioplast.hardware.transforms import device_gain, exponential_steps, quantize, soft_bounds, write_noise


def device_transforms(profile: DeviceProfile, seed: int = 0, kernel=None) -> tuple:
    """The chain of transforms that puts a rule's updates through ``profile`` (empty for ``ideal``,
    whose float weights have no range and no device effects), its stochastic stages drawing from
    ``seed``.  ``kernel``: a backend's fused device write (``k.fused("device_write")``) that runs the
    elementwise stages in one pass; without one they run one by one (the same numbers)."""
    if profile.inference_only:
        raise ConfigError(
            f"substrate {profile.name!r} is inference only: it has no on-chip plasticity; "
            "train on another substrate and deploy the weights"
        )
    chain = []
    if profile.update_bits is not None:
        assert profile.bits is not None  # a DeviceProfile with update_bits has bits (validated)
        lsb = profile.grid[1] / 2 ** (profile.update_bits - profile.bits)
        chain.append(physics.update_precision(profile.update_bits, lsb))
    if profile.learning_epoch > 1:
        chain.append(physics.learning_epoch(profile.learning_epoch))
    if profile.up != 1 or profile.down != 1 or profile.d2d > 0:
        chain.append(device_gain(profile.up, profile.down, profile.d2d, seed, profile.row_signs == "paired"))
    if profile.differential:
        chain.append(physics.differential_pair(profile.weight_range[1], soft=profile.bounds == "soft"))
    elif profile.bounds == "soft":
        chain.append(soft_bounds(*profile.weight_range))
    elif profile.bounds == "exponential":
        chain.append(exponential_steps(*profile.weight_range, profile.step_nonlinearity))
    if profile.write_noise > 0:
        chain.append(write_noise(profile.write_noise, seed))
    if profile.bits is not None:
        chain.append(
            quantize(profile.bits, *profile.weight_range, profile.rounding, seed, profile.row_signs == "paired")
        )
    elif profile.bounds != "none":
        chain.append(clip_bounds(*profile.weight_range))
    if profile.stuck > 0:
        chain.append(physics.stuck_devices(profile.stuck, *profile.weight_range, seed, levels(profile)))
    return fuse_runs(chain, kernel)


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
        lo, hi = profile.weight_range
        mask, values = physics.stuck_values(tuple(w.shape), profile.stuck, lo, hi, seed, levels(profile))
        w = w * k.asarray(1.0 - mask) + k.asarray(values)
    return w
