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


# ---- fused relaxation (equilibrium propagation) -------------------------------
# Activation codes for the fused loop; names match bioplast.dynamics.activations.
ACT_CODES = {"identity": 0, "relu": 1, "tanh": 2, "sigmoid": 3, "hard_sigmoid": 4, "sigmoid4": 5}
COST_CODES = {"mse": 0, "cross_entropy": 1}


@njit(**_opts)
def _act(v, code):
    if code == 1:
        return v if v > 0 else v * 0
    if code == 2:
        return np.tanh(v)
    if code == 3:
        return 1 / (1 + np.exp(-v))
    if code == 4:
        return min(max(v, v * 0), v * 0 + 1)
    if code == 5:
        return 1 / (1 + np.exp(-4 * (v - 0.5)))
    return v


@njit(**_opts)
def _readout_nudge(top, target, beta, w_o, b_o):
    # β W_oᵀ (y − softmax(W_o s_L + b_o)), row by row
    z = np.dot(top, w_o.T)
    for i in range(z.shape[0]):
        m = -np.inf
        for c in range(z.shape[1]):
            z[i, c] += b_o[c]
            m = max(m, z[i, c])
        total = 0.0
        for c in range(z.shape[1]):
            z[i, c] = np.exp(z[i, c] - m)
            total += z[i, c]
        for c in range(z.shape[1]):
            z[i, c] = target[i, c] - z[i, c] / total
    g = np.dot(z, w_o)
    for i in range(g.shape[0]):
        for j in range(g.shape[1]):
            g[i, j] *= beta
    return g


@njit(**_opts)
def relax_layers(ups, downs, base, cur, nxt, steps, act, dt, beta, target, cost, w_o, b_o):
    """``steps`` synchronous leaky updates ``s_l ← s_l + dt (ρ(h_l) − s_l)`` of every layer.

    ``h_l = s_{l−1} ups[l]ᵀ + base[l] + s_{l+1} downs[l]`` (``downs[l] = W_{l+1}`` when
    symmetric, ``B_{l+1}ᵀ`` otherwise) (+ the nudge on the
    top layer); ``base[0]`` holds the constant input drive ``W_1 x + b_1``
    (so ``ups[0]`` is not used), ``base[l ≥ 1]`` the bias as a ``[1, n_l]`` row.
    ``cur`` and ``nxt`` are two sets of state buffers swapped every step (the
    caller's states must be copies: they are overwritten).  Returns
    ``(result_in_nxt, residual)``: which buffer set holds the final states and
    ``max |s_T − s_{T−1}|``.
    """
    n = len(cur)
    residual = 0.0
    in_nxt = False
    for t in range(steps):
        last = t == steps - 1
        for l in range(n):
            s = cur[l]
            if l > 0:
                h = np.dot(cur[l - 1], ups[l].T)
            else:
                h = np.zeros_like(s)
            if l + 1 < n:
                h += np.dot(cur[l + 1], downs[l])
            nudged = l == n - 1 and beta != 0
            g = h
            if nudged and cost == 1:
                g = _readout_nudge(s, target, beta, w_o, b_o)
            bl = base[l]
            row = bl.shape[0] == 1
            out = nxt[l]
            for i in range(s.shape[0]):
                bi = 0 if row else i
                for j in range(s.shape[1]):
                    v = h[i, j] + bl[bi, j]
                    if nudged:
                        if cost == 1:
                            v += g[i, j]
                        else:
                            v -= beta * (s[i, j] - target[i, j])
                    new = s[i, j] + dt * (_act(v, act) - s[i, j])
                    if last:
                        d = abs(new - s[i, j])
                        if d > residual or d != d:  # NaN sticks: max() would drop it
                            residual = d
                    out[i, j] = new
        cur, nxt = nxt, cur
        in_nxt = not in_nxt
    return in_nxt, residual
