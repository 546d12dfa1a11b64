"""The student–teacher lab's fused kernel: many whole two-layer training runs in one call.

A sweep (seeds × flip patterns × initial scales) is ``R`` independent runs
over one dataset; :func:`two_layer_sweep` runs them in parallel over the
cores (``prange`` over runs) and each run is a plain loop over steps with
hand-written products, so no step pays the per-call overhead of a numpy
or BLAS call — at the paper's sizes (100 inputs, 10 hidden, minibatches of
10) the arithmetic of a step is a few microseconds and that overhead is
what a numpy loop spends its time on.  The update rule and its symbols are
those of :mod:`bioplast.dynamics.student_teacher`; minibatch indices come
from :func:`batch_index`, the same counter-based hash the numpy and torch
paths use, so every backend draws the same samples.

No BLAS inside: a ``prange`` region next to threaded BLAS oversubscribes
the cores (see :mod:`bioplast.backends.numba.kernels`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

_opts: dict[str, Any] = dict(cache=True, nogil=True, fastmath=True, error_model="numpy")

IDENTITY, RELU, TANH = 0, 1, 2

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(**_opts)
def _splitmix64(z):
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


@njit(**_opts)
def batch_index(seed, run, step, slot, batch, n):
    """Sample index for minibatch ``slot`` of ``step`` in ``run``: splitmix64 (Steele et al. 2014)
    of a per-run key plus the draw counter, modulo ``n`` (with replacement)."""
    key = _splitmix64(np.uint64(seed) ^ (np.uint64(run) << np.uint64(32)))
    return np.int64(_splitmix64(key + np.uint64(step) * np.uint64(batch) + np.uint64(slot)) % np.uint64(n))


@njit(**_opts)
def _phi(v, code):
    if code == TANH:
        return np.tanh(v)
    if code == RELU:
        return v if v > 0.0 else 0.0
    return v


@njit(**_opts)
def _slope(h, code):
    """φ' at the pre-activation whose image is ``h = φ(a)`` (each φ here is monotone)."""
    if code == TANH:
        return 1.0 - h * h
    if code == RELU:
        return 1.0 if h > 0.0 else 0.0
    return 1.0


@njit(**_opts)
def _forward(w1, w2, xs, act, out, h, o):
    """Hidden activities ``h = φ(W₁x)`` and outputs ``o = φ_out(W₂h)`` for one sample."""
    for i in range(w1.shape[0]):
        a = 0.0
        for j in range(w1.shape[1]):
            a += w1[i, j] * xs[j]
        h[i] = _phi(a, act)
    for p in range(w2.shape[0]):
        a = 0.0
        for i in range(w2.shape[1]):
            a += w2[p, i] * h[i]
        o[p] = _phi(a, out)


@njit(**_opts)
def _error(w1, w2, x, y, act, out):
    h = np.empty(w1.shape[0])
    o = np.empty(w2.shape[0])
    total = 0.0
    for b in range(x.shape[0]):
        _forward(w1, w2, x[b], act, out, h, o)
        for p in range(o.shape[0]):
            e = o[p] - y[b, p]
            total += e * e
    return 0.5 * total / x.shape[0]


@njit(**_opts)
def _frobenius(w):
    s = 0.0
    for v in w.ravel():
        s += v * v
    return np.sqrt(s)


@njit(**_opts)
def _one_run(w1, w2, d1, d2, fb, use_fb, data, cfg, run, tr, te):
    x, y, xt, yt = data.x, data.y, data.x_test, data.y_test
    act, out, lr, steps, batch = cfg.activation, cfg.readout, cfg.lr, cfg.steps, cfg.batch
    minibatch, renorm, at, seed = cfg.minibatch, cfg.renormalise, cfg.record_at, cfg.seed
    n_hidden, n_in = w1.shape
    n_out = w2.shape[0]
    hid = np.empty((batch, n_hidden))
    slope = np.empty((batch, n_hidden))  # φ'(a), then δ
    err = np.empty((batch, n_out))
    rows = np.empty(batch, dtype=np.int64)
    o = np.empty(n_out)
    n1, n2 = _frobenius(w1), _frobenius(w2)
    k = 0
    scale = lr / batch
    for t in range(steps + 1):
        if k < at.shape[0] and at[k] == t:
            tr[k] = _error(w1, w2, x, y, act, out)
            te[k] = _error(w1, w2, xt, yt, act, out)
            k += 1
        if t == steps:
            break
        back = fb if use_fb else w2
        for b in range(batch):
            rows[b] = batch_index(seed, run, t, b, batch, x.shape[0]) if minibatch else b
            _forward(w1, w2, x[rows[b]], act, out, hid[b], o)
            for i in range(n_hidden):
                slope[b, i] = _slope(hid[b, i], act)
            for p in range(n_out):
                err[b, p] = o[p] - y[rows[b], p]
        # δ = (e B) ⊙ φ'(a) from the pre-step W₂ (or B), stored over the slopes; then both writes
        for b in range(batch):
            for i in range(n_hidden):
                s = 0.0
                for p in range(n_out):
                    s += err[b, p] * back[p, i]
                slope[b, i] *= s  # δ
        for p in range(n_out):
            for i in range(n_hidden):
                g = 0.0
                for b in range(batch):
                    g += err[b, p] * hid[b, i]
                w2[p, i] -= scale * g * d2[i]
        for b in range(batch):
            xs = x[rows[b]]
            for i in range(n_hidden):
                c = scale * slope[b, i]
                for j in range(n_in):
                    w1[i, j] -= c * xs[j] * d1[j]
        if renorm:
            w1 *= n1 / _frobenius(w1)
            w2 *= n2 / _frobenius(w2)


@njit(parallel=True, **_opts)
def two_layer_sweep(runs, data, cfg):
    """``R = runs.w1.shape[0]`` runs in place (:mod:`bioplast.backends.sweep_tables`); returns train and
    test errors ``[R, len(cfg.record_at)]``."""
    n_runs = runs.w1.shape[0]
    tr = np.empty((n_runs, cfg.record_at.shape[0]))
    te = np.empty((n_runs, cfg.record_at.shape[0]))
    for r in prange(n_runs):
        _one_run(
            runs.w1[r],
            runs.w2[r],
            runs.d1[r],
            runs.d2[r],
            runs.feedback[r * runs.use_feedback],
            runs.use_feedback,
            data,
            cfg,
            runs.streams[r],
            tr[r],
            te[r],
        )
    return tr, te
