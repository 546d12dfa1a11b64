"""Numba kernels: plain module-level functions over arrays, compiled once.

``cache=True`` stores the machine code next to this file so later processes
skip compilation.  Random state is always an explicit ``np.random.Generator``
argument (numba reproduces numpy's streams for it).

The elementwise kernels are memory-bound: each is a single pass over the
weights, which is where they beat numpy's chains of temporaries.  They are
deliberately serial: a ``prange`` region (OpenMP layer) next to a BLAS call
oversubscribes the cores and its spinning threads slowed the following
BLAS products 2–7× in ``benchmarks/kernels.py``; products go to BLAS
(``np.dot``), which already uses every core.
"""
from __future__ import annotations

import numpy as np
from numba import njit

_opts = dict(cache=True, fastmath=False, nogil=True)


@njit(**_opts)
def _scale_minus_row_decay(out, inv_b, w, decay):
    # one pass: out ← out / B − decay[:, None] ⊙ w, in place
    for i in range(out.shape[0]):
        d = decay[i]
        for j in range(out.shape[1]):
            out[i, j] = out[i, j] * inv_b - d * w[i, j]
    return out


@njit(**_opts)
def outer_mean(post, pre):
    # BLAS takes the transposed (F-ordered) view directly: no copy; then the
    # 1/B scaling in place, so float32 stays float32 and no temporary is made.
    out = np.dot(post.T, pre)
    inv_b = 1.0 / post.shape[0]
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] *= inv_b
    return out


@njit(**_opts)
def outer_mean_decay(post, pre, w, decay):
    return _scale_minus_row_decay(np.dot(post.T, pre), 1.0 / post.shape[0], w, decay)


@njit(**_opts)
def row_scale(w, s):
    out = np.empty_like(w)
    for i in range(w.shape[0]):
        si = s[i]
        for j in range(w.shape[1]):
            out[i, j] = si * w[i, j]
    return out


@njit(**_opts)
def batch_mean(x):
    out = np.zeros(x.shape[1:], dtype=x.dtype)
    flat_out = out.reshape(-1)
    flat_x = x.reshape(x.shape[0], -1)
    for b in range(flat_x.shape[0]):
        for j in range(flat_x.shape[1]):
            flat_out[j] += flat_x[b, j]
    inv_b = 1.0 / x.shape[0]
    for j in range(flat_out.shape[0]):
        flat_out[j] *= inv_b
    return out


@njit(**_opts)
def linear(x, w):
    return np.dot(x, w.T)


@njit(**_opts)
def linear_bias(x, w, b):
    out = np.dot(x, w.T)
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] += b[j]
    return out


@njit(**_opts)
def add(w, u):
    out = np.empty_like(w)
    fw = w.reshape(-1)
    fu = u.reshape(-1)
    fo = out.reshape(-1)
    for i in range(fw.shape[0]):
        fo[i] = fw[i] + fu[i]
    return out


@njit(**_opts)
def to_grid(w, step, lo, hi):
    out = np.empty_like(w)
    fw = w.reshape(-1)
    fo = out.reshape(-1)
    inv = 1.0 / step
    for i in range(fw.shape[0]):
        v = np.round(fw[i] * inv) * step
        fo[i] = min(max(v, lo), hi)
    return out


@njit(**_opts)
def sign_project(w, signs):
    out = np.empty_like(w)
    for i in range(w.shape[0]):
        for j in range(w.shape[1]):
            v = w[i, j]
            out[i, j] = 0.0 if v * signs[j] < 0 else v
    return out


@njit(**_opts)
def decay_trace(trace, events, decay):
    out = np.empty_like(trace)
    ft = trace.reshape(-1)
    fe = events.reshape(-1)
    fo = out.reshape(-1)
    for i in range(ft.shape[0]):
        fo[i] = decay * ft[i] + fe[i]
    return out


@njit(**_opts)
def normal(rng, n):
    out = np.empty(n)
    for i in range(n):
        out[i] = rng.standard_normal()
    return out
