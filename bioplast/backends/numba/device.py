"""Numba kernels of the device physics: counter-based draws and the fused device write.

One pass over a weight matrix does every elementwise stage of a device
profile (:class:`~bioplast.backends.device_write.WriteSpec`), drawing its
random numbers from the counter-based stream of
:mod:`~bioplast.backends.counter_rng` — the numbers numpy and torch draw for
the same key, so the fused write equals the staged one.  Per row, the normal
draws are made in a first loop that holds no logarithm (the central rational
of Acklam's quantile; ``error_model="numpy"`` drops the division-by-zero
check, so LLVM vectorises it), the 5 % of draws in the tails are redone in a
second loop, and the physics runs in a third.  Serial, for the reason given
in :mod:`~bioplast.backends.numba.kernels` (a second thread for half the rows,
tried, lost on average to the hand-off and to torch's spinning threads).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from bioplast.backends import counter_rng as cr
from bioplast.backends.device_write import BOUNDS_EXPONENTIAL, BOUNDS_SOFT, GRID_CLIP, GRID_NEAREST, GRID_STOCHASTIC

_opts: dict[str, Any] = dict(cache=True, nogil=True, error_model="numpy")
_M0, _M1 = np.uint32(cr.MIX_MULTIPLIERS[0]), np.uint32(cr.MIX_MULTIPLIERS[1])
_A, _B, _C, _D = cr.ACKLAM_A, cr.ACKLAM_B, cr.ACKLAM_C, cr.ACKLAM_D
_HALF_MINUS = cr.HALF - 0.5
_INV23 = 1.0 / 2**cr.NORMAL_BITS
_TOP23 = 2**cr.NORMAL_BITS - 1
_TAIL_LOW, _TAIL_HIGH = cr.TAIL_LOW, cr.TAIL_HIGH
_INV24 = 1.0 / 2**24
_LN2, _SQRT_HALF, _LOG_TERMS, _SQRT_ITERATIONS = cr.LN2, cr.SQRT_HALF, cr.LOG_TERMS, cr.SQRT_ITERATIONS


@njit(inline="always")
def _mix(x):
    x = x ^ (x >> np.uint32(16))
    x = np.uint32(x * _M0)
    x = x ^ (x >> np.uint32(15))
    x = np.uint32(x * _M1)
    return np.uint32(x ^ (x >> np.uint32(16)))


@njit(inline="always")
def _bits(i, k0, k1):
    return _mix(np.uint32(_mix(np.uint32(np.uint32(i) + k0)) ^ k1))


@njit(inline="always")
def _central(m):
    q = (np.float64(np.int32(m)) - _HALF_MINUS) * _INV23
    r = q * q
    num = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
    return num / (((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0)


@njit(inline="always")
def _log(p):
    """:func:`~bioplast.backends.counter_rng.portable_log`, the same operations in the same order."""
    m, e = math.frexp(p)
    ef = np.float64(e)
    if m < _SQRT_HALF:
        m = m * 2.0
        ef = ef - 1.0
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    poly = _LOG_TERMS[10]
    for i in range(9, -1, -1):
        poly = poly * z + _LOG_TERMS[i]
    return ef * _LN2 + 2.0 * s * poly


@njit(**_opts)
def _lower_tail(low):
    # not inlined: a log and a sqrt in the loop body slowed the common (central) path 10×
    y = -2.0 * _log((low + 0.5) * _INV23)
    q = y * 0.125 + 2.0  # counter_rng.tail_sqrt: the same Newton steps
    for _ in range(_SQRT_ITERATIONS):
        q = (q + y / q) * 0.5
    return (((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]) / (
        (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
    )


@njit(**_opts)
def _normals_into(z, marks, start, k0, k1):
    """``z[j]`` ← the normal draw of element ``start + j`` (float64, rounded on assignment to ``z``'s
    dtype)."""
    n = z.shape[0]
    for j in range(n):
        m = _bits(start + j, k0, k1) >> np.uint32(9)
        marks[j] = m
        z[j] = _central(m)
    for j in range(n):
        m = np.int64(marks[j])
        if m < _TAIL_LOW:
            z[j] = _lower_tail(np.float64(m))
        elif m >= _TAIL_HIGH:
            z[j] = -_lower_tail(np.float64(_TOP23 - m))


@njit(**_opts)
def counter_normal_into(z, k0, k1):
    _normals_into(z, np.empty(z.shape[0], np.uint32), 0, k0, k1)


@njit(**_opts)
def read_error(h, scale, k0, k1, out):
    """``out[b, i] = scale ‖h_b‖ ζ_{b,i}`` (``ζ`` element ``b·n + i`` of the draw ``(k₀, k₁)``) in one
    pass: the norms, the draws and the product without temporaries."""
    n = out.shape[1]
    z = np.empty(n)
    marks = np.empty(n, np.uint32)
    for b in range(out.shape[0]):
        std = np.sqrt(np.float64(np.dot(h[b], h[b]))) * scale
        _normals_into(z, marks, b * n, k0, k1)
        for i in range(n):
            out[b, i] = z[i] * std


@njit(**_opts)
def counter_bits(n, k0, k1):
    out = np.empty(n, np.uint32)
    for i in range(n):
        out[i] = _bits(i, k0, k1)
    return out


@njit(**_opts)
def device_write(w, u, g, s, nk0, nk1, rk0, rk1):
    """The update the device makes of ``u`` at weights ``w`` (``[n_post, n_pre]``, one dtype);
    ``g``: per-device gains or an empty array; ``s``: a WriteSpec with floats in the weights' dtype;
    ``(nk0, nk1)``, ``(rk0, rk1)``: the write-noise and rounding stream keys.

    Row by row, each stage is its own short loop over a row buffer that stays in L1: the stage
    switches are tested once per row instead of once per weight, and every loop but the tails of
    the normal draws is branch-free enough to vectorise."""
    n_post, n_pre = w.shape
    out = np.empty_like(w)
    z = np.empty(n_pre, w.dtype)
    marks = np.empty(n_pre, np.uint32)
    one = w.dtype.type(1.0)
    zero = w.dtype.type(0.0)
    inv24 = w.dtype.type(_INV24)
    span = s.hi - s.lo
    per_device = g.size > 0
    for i in range(n_post):
        x = out[i]
        wr = w[i]
        x[:] = u[i]
        if s.update_lsb != 0:
            for j in range(n_pre):
                x[j] = min(max(np.rint(x[j] / s.update_lsb), -s.update_top), s.update_top) * s.update_lsb
        if s.gain:
            for j in range(n_pre):
                x[j] = x[j] * s.up if x[j] > 0 else x[j] * s.down
            if per_device:
                for j in range(n_pre):
                    x[j] = x[j] * g[i, j]
        if s.bounds == BOUNDS_SOFT:
            for j in range(n_pre):
                room = (s.hi - wr[j]) if x[j] > 0 else ((wr[j] - s.lo) if x[j] < 0 else zero)
                x[j] = x[j] * room / span
        elif s.bounds == BOUNDS_EXPONENTIAL:
            for j in range(n_pre):
                zz = (wr[j] - s.lo) / span
                if x[j] > 0:
                    x[j] = x[j] * np.exp(-s.gamma * zz)
                elif x[j] < 0:
                    x[j] = x[j] * np.exp(-s.gamma * (one - zz))
        if s.write_sigma != 0:
            _normals_into(z, marks, i * n_pre, nk0, nk1)
            for j in range(n_pre):
                x[j] = x[j] * (one + s.write_sigma * z[j])
        if s.grid == GRID_CLIP:
            for j in range(n_pre):
                x[j] = (min(max(wr[j] + x[j], s.clip_lo), s.clip_hi) - wr[j]) if x[j] != 0 else zero
        elif s.grid == GRID_NEAREST:
            for j in range(n_pre):
                target = min(max((wr[j] + x[j] - s.origin) / s.step, s.k_min), s.k_max)
                x[j] = min(max(np.rint(target), s.k_min), s.k_max) * s.step + s.origin - wr[j]
        elif s.grid == GRID_STOCHASTIC:
            for j in range(n_pre):
                target = min(max((wr[j] + x[j] - s.origin) / s.step, s.k_min), s.k_max)
                level = np.floor(target)
                p = w.dtype.type(_bits(i * n_pre + j, rk0, rk1) >> np.uint32(8)) * inv24
                x[j] = (level + (one if p < target - level else zero)) * s.step + s.origin - wr[j]
    return out
