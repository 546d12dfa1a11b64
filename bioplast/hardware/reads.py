r"""Noisy reads of a chip's weights: every forward pass sees ``W + σ_read S Ξ``.

``S = max(|w_min|, |w_max|)``, fresh ``Ξ ~ N(0, 1)`` per read and per device (aihwkit's forward
weight noise, ``w_noise``, is the same model).  A batch of ``B`` inputs is ``B`` reads, so the
noise a neuron receives is ``ν_b = Ξ_b h_b``: Gaussian, independent across neurons and samples,
with standard deviation ``σ_read S ‖h_b‖``.  :class:`Reads` draws ``ν`` in that output-referred
form, exact in distribution and ``n_pre`` times cheaper than drawing ``Ξ_b`` for every sample.
Read ``r`` of matrix ``m`` draws from the counter-based stream ``(seed, r, READ_SALT + m)``
(:mod:`bioplast.backends.counter_rng`), so every backend sees the same noise and a checkpoint
keeps the read count, not a generator.
"""

from __future__ import annotations

from bioplast.backends.counter_rng import READ_SALT, stream_key
from bioplast.hardware.profile import DeviceProfile


def read_scale(profile: DeviceProfile) -> float:
    """``σ_read · S``: the standard deviation of one weight read (0 for a noiseless profile)."""
    span = 1.0 if profile.bounds == "none" else max(abs(profile.w_min), abs(profile.w_max))
    return profile.read_noise * span


def read_std(h, scale: float):
    """``s_b = σ_read S ‖h_b‖``: the standard deviation of the read noise each neuron receives for
    input ``h[B, n_pre]`` (``scale`` = :func:`read_scale`), ``[B]``."""
    return ((h * h).sum(1) ** 0.5) * scale


class ReadPass:
    """The noise of one forward pass through a chip's matrices (read number ``read``).

    ``pass_(m, h, n_post)`` is the output-referred error ``ν[B, n_post]`` of matrix ``m``'s devices
    read with inputs ``h[B, ·]``: ``σ_read S ‖h_b‖ ζ_b``, ``ζ`` the counter-based draw
    ``(seed, read, READ_SALT + m)`` — the ``node_noise`` hook of
    :func:`~bioplast.dynamics.feedforward.forward`.  :meth:`std` is its known standard deviation
    (node perturbation on device noise standardises by it)."""

    def __init__(self, k, scale: float, seed: int, read: int):
        self.k, self.scale, self.seed, self.read = k, float(scale), int(seed), int(read)

    def key(self, matrix: int) -> tuple:
        return stream_key(self.seed, self.read, READ_SALT + int(matrix))

    def __call__(self, matrix: int, h, n_post: int):
        return self.k.read_error(self.key(matrix), h, self.scale, int(n_post))

    def std(self, h):
        return read_std(h, self.scale)


class Reads:
    """A chip's noisy reads: a read counter (the only state, checkpointed as an int) and the stream
    every pass draws from.  :meth:`next` is the next forward pass; :meth:`at` any pass."""

    def __init__(self, scale: float, seed: int, count: int = 0):
        self.scale, self.seed, self.count = float(scale), int(seed), int(count)

    def next(self, k) -> ReadPass:
        self.count += 1
        return ReadPass(k, self.scale, self.seed, self.count)

    def at(self, k, read: int) -> ReadPass:
        return ReadPass(k, self.scale, self.seed, read)


def read_noise(k, profile: DeviceProfile, seed: int, read: int):
    """The noise of read number ``read`` of ``profile``'s devices as a :class:`ReadPass` hook
    (``None`` when the profile reads exactly); ``seed`` names the chip's read stream."""
    scale = read_scale(profile)
    return None if scale == 0 else ReadPass(k, scale, seed, read)
