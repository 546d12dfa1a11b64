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

from typing import Any, NamedTuple

import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

_opts: dict[str, Any] = dict(cache=True, fastmath=False, nogil=True)


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

# reassociation lets LLVM vectorise the reductions and the polynomial; NaN/inf
# semantics are kept (no 'nnan'/'ninf'), so divergence still shows in the residual;
# error_model="numpy" drops the ZeroDivisionError branch that blocks vectorising 1/x
_vec: dict[str, Any] = dict(
    cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract", "arcp", "nsz"}
)
# products whose inner dimension is at most this go through loops LLVM vectorises;
# BLAS's call and threading overhead dominates such skinny products
SKINNY = 64


@intrinsic
def _f32_from_bits(typingctx, bits):
    """Reinterpret an int32 as float32 (an LLVM bitcast, which vectorises)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float32))

    return types.float32(types.int32), codegen


_F = np.float32
_LOG2E, _LN2_HI, _LN2_LO = _F(1.4426950408889634), _F(0.693359375), _F(-2.12194440e-4)
# above log(FLT_MAX) ≈ 88.72 e^x overflows to inf, as libm's does; 89 keeps k ≤ 129 in the reduction
_EXP_HI, _EXP_LO, _SMALL = _F(89.0), _F(-87.0), _F(0.34657359)
_ONE, _TWO, _FOUR, _HALF = _F(1.0), _F(2.0), _F(4.0), _F(0.5)
_P1, _P2, _P3, _P4, _P5, _P6 = _F(1 / 2), _F(1 / 6), _F(1 / 24), _F(1 / 120), _F(1 / 720), _F(1 / 5040)


@njit(**_vec)
def _expm1_poly(r):
    # e^r − 1 = r (1 + r/2 + r²/6 + …), degree 7: < 1e-8 relative for |r| ≤ ln2/2
    return r * (_ONE + r * (_P1 + r * (_P2 + r * (_P3 + r * (_P4 + r * (_P5 + r * _P6))))))


@njit(**_vec)
def _exp32(x):
    """float32 ``e^x`` from arithmetic and a bitcast, so loops over it vectorise
    (numba's scalar libm exp costs ~10 ns and blocks SIMD; this runs ~0.4 ns).

    Cody–Waite reduction ``x = k ln2 + r``, ``|r| ≤ ln2/2``, degree-7 Taylor
    polynomial, ``2^k`` assembled in the exponent bits.  Below −87 the argument
    is clamped (e^−87 ≈ 1.6e-38, a normal float32, where libm would go
    subnormal); above log(FLT_MAX) the result overflows to inf, as libm's does,
    so a diverging exponentiated update is seen as one.  NaN passes through.
    Within the bound of ``tests/backends/test_numba_kernels.py``.
    """
    if x > _EXP_HI:
        x = _EXP_HI
    if x < _EXP_LO:
        x = _EXP_LO
    k = np.floor(x * _LOG2E + _HALF)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    if k > _F(127.0):  # 2^k is not a float32: scale by 2^127, then by 2^(k−127) (→ inf past FLT_MAX)
        return (_ONE + _expm1_poly(r)) * _f32_from_bits(np.int32(254) << np.int32(23)) * _TWO ** (k - _F(127.0))
    return (_ONE + _expm1_poly(r)) * _f32_from_bits((np.int32(k) + np.int32(127)) << np.int32(23))


@njit(**_vec)
def _expm1_32(z):
    # e^z − 1 without cancellation: the series near 0, exp32 − 1 beyond ln2/2
    return _expm1_poly(z) if abs(z) < _SMALL else _exp32(z) - _ONE


@njit(**_vec)
def _signed_expm1_into(w, d, out, scale, shrink):
    """``out ← w ⊙ expm1(scale · sign(w) ⊙ d − shrink)`` over 1-D float32 views.

    Learning steps are small, so the first pass uses the series alone (valid
    for |z| < ln2/2) and vectorises; it counts the larger (or NaN) steps —
    as a float sum: a max() or integer reduction here stops LLVM vectorising
    the loop (measured 20× slower) — and only if there were any, a second
    pass redoes those elements with exp32.
    """
    large = _F(0.0)
    for i in range(w.shape[0]):
        v = w[i]
        z = scale * (_F(v > 0) - _F(v < 0)) * d[i] - shrink
        large += _F(not abs(z) < _SMALL)
        out[i] = v * _expm1_poly(z)
    if large > 0:
        for i in range(w.shape[0]):
            v = w[i]
            z = scale * (_F(v > 0) - _F(v < 0)) * d[i] - shrink
            if not abs(z) < _SMALL:
                out[i] = v * (_exp32(z) - _ONE)


@njit(**_vec)
def signed_expm1(w, d, scale, shrink):
    """``w ⊙ expm1(scale · sign(w) ⊙ d − shrink)`` in one vectorised pass (float32, any shape)."""
    out = np.empty_like(w)
    _signed_expm1_into(w.reshape(-1), d.reshape(-1), out.reshape(-1), scale, shrink)
    return out


@njit(parallel=True, **_vec)
def signed_expm1_rows(w, d, scale, shrink):
    """The same over the rows of 2-D arrays in parallel.  For torch's CPU tensors only:
    next to numpy's OpenBLAS an OpenMP region oversubscribes the cores (see the module
    docstring), next to torch's own OpenMP pool it does not (measured)."""
    out = np.empty_like(w)
    for r in prange(w.shape[0]):
        _signed_expm1_into(w[r], d[r], out[r], scale, shrink)
    return out


@njit(**_vec)
def adam_step(m, v, d, b1, b2, step_scale, v_scale, eps):
    """Adam's moments and step in one pass: ``(step, m', v')`` (see ``Backend.adam_step``)."""
    step, m2, v2 = np.empty_like(m), np.empty_like(m), np.empty_like(v)
    fm, fv, fd = m.reshape(-1), v.reshape(-1), d.reshape(-1)
    fs, fm2, fv2 = step.reshape(-1), m2.reshape(-1), v2.reshape(-1)
    one = fm[0] * 0 + 1
    for i in range(fm.shape[0]):
        di = fd[i]
        mi = b1 * fm[i] + (one - b1) * di
        vi = b2 * fv[i] + (one - b2) * di * di
        fm2[i], fv2[i] = mi, vi
        fs[i] = step_scale * mi / (np.sqrt(v_scale * vi) + eps)
    return step, m2, v2


@njit(**_vec)
def exp32(x, out):
    """``out ← e^x`` elementwise over float32 arrays (the kernel above, exposed for tests)."""
    fx, fo = x.reshape(-1), out.reshape(-1)
    for i in range(fx.shape[0]):
        fo[i] = _exp32(fx[i])


@njit(**_vec)
def _activate(h, code):
    """``h ← ρ(h)`` in place on float32; the branch sits outside the loops so each vectorises."""
    f = h.reshape(-1)
    n = f.shape[0]
    if code == 1:
        for i in range(n):
            f[i] = max(f[i], _F(0.0))
    elif code == 2:  # tanh x = −sign(x) a / (2 + a), a = e^{−2|x|} − 1, a by series when small (no cancellation)
        for i in range(n):
            v = f[i]
            a = _expm1_32(-_TWO * abs(v))
            t = -a / (_TWO + a)
            f[i] = t if v >= 0 else -t
    elif code == 3:
        for i in range(n):
            f[i] = _ONE / (_ONE + _exp32(-f[i]))
    elif code == 4:
        for i in range(n):
            f[i] = min(max(f[i], _F(0.0)), _ONE)
    elif code == 5:  # σ(4(x − ½))
        for i in range(n):
            f[i] = _ONE / (_ONE + _exp32(_TWO - _FOUR * f[i]))


@njit(**_vec)
def _add_product(h, a, w, transposed):
    """``h += a · wᵀ`` (``transposed``) or ``h += a · w``.

    Skinny products — inner dimension or output width ≤ ``SKINNY``, e.g. the
    10-unit output layer of an MNIST network — go through loops over
    contiguous rows that LLVM vectorises: there BLAS's per-call and
    threading overhead dominates (measured 15 µs vs 22 µs for
    50×512 · 512×10).  Square products go to BLAS.
    """
    k_dim = a.shape[1]
    if transposed and (k_dim <= SKINNY or h.shape[1] <= SKINNY):
        for i in range(h.shape[0]):  # h[i, j] += a[i, :] · w[j, :]
            ar = a[i]
            for j in range(h.shape[1]):
                wr = w[j]
                acc = ar[0] * 0
                for k in range(k_dim):
                    acc += ar[k] * wr[k]
                h[i, j] += acc
    elif not transposed and k_dim <= SKINNY:
        for i in range(h.shape[0]):  # h[i, :] += Σ_k a[i, k] w[k, :]
            hr = h[i]
            for k in range(k_dim):
                aik = a[i, k]
                wr = w[k]
                for j in range(hr.shape[0]):
                    hr[j] += aik * wr[j]
    else:
        h += np.dot(a, w.T) if transposed else np.dot(a, w)


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


class RelaxNet(NamedTuple):
    ups: tuple  # W_l, bottom-up (ups[0] unused: base[0] holds the input drive)
    downs: tuple  # the matrix of each layer's top-down product (downs[-1] unused)
    base: tuple  # constant drives: the input drive, then each bias as a [1, n_l] row


class RelaxBuffers(NamedTuple):
    cur: tuple  # the states (copies: they are overwritten)
    nxt: tuple  # a second set, swapped with cur every step
    drive: tuple  # scratch drives


class RelaxNudge(NamedTuple):
    beta: float  # 0: the free phase
    target: object
    cost: int  # COST_CODES
    w_o: object  # the cross-entropy readout (placeholders under mse)
    b_o: object


@njit(**_vec)
def relax_layers(net, buffers, nudge, steps, act, dt):
    """``steps`` synchronous leaky updates ``s_l ← s_l + dt (ρ(h_l) − s_l)`` of every layer.

    ``h_l = s_{l−1} ups[l]ᵀ + base[l] + s_{l+1} downs[l]`` (``downs[l] = W_{l+1}`` when
    symmetric, ``B_{l+1}ᵀ`` otherwise) + the nudge on the top layer;
    ``base[0]`` holds the constant input drive ``W_1 x + b_1`` (so ``ups[0]``
    is not used), ``base[l ≥ 1]`` the bias as a ``[1, n_l]`` row.  ``cur`` and
    ``nxt`` are two sets of state buffers swapped every step (the caller's
    states must be copies: they are overwritten), ``hbuf`` scratch drives.
    Returns ``(result_in_nxt, residual)``: which buffer set holds the final
    states and ``max |s_T − s_{T−1}|`` (NaN if any state is NaN).
    """
    ups, downs, base = net.ups, net.downs, net.base
    cur, nxt, hbuf = buffers.cur, buffers.nxt, buffers.drive
    beta, target, cost, w_o, b_o = nudge.beta, nudge.target, nudge.cost, nudge.w_o, nudge.b_o
    n = len(cur)
    residual = 0.0
    in_nxt = False
    for t in range(steps):
        last = t == steps - 1
        for l in range(n):
            s = cur[l]
            h = hbuf[l]
            bl = base[l]
            row = bl.shape[0] == 1
            for i in range(h.shape[0]):
                bi = 0 if row else i
                for j in range(h.shape[1]):
                    h[i, j] = bl[bi, j]
            if l > 0:
                _add_product(h, cur[l - 1], ups[l], True)
            if l + 1 < n:
                _add_product(h, cur[l + 1], downs[l], False)
            if l == n - 1 and beta != 0:
                if cost == 1:
                    h += _readout_nudge(s, target, beta, w_o, b_o)
                else:
                    for i in range(h.shape[0]):
                        for j in range(h.shape[1]):
                            h[i, j] -= beta * (s[i, j] - target[i, j])
            _activate(h, act)
            out = nxt[l]
            for i in range(s.shape[0]):
                for j in range(s.shape[1]):
                    out[i, j] = s[i, j] + dt * (h[i, j] - s[i, j])
            if last:
                for i in range(s.shape[0]):
                    for j in range(s.shape[1]):
                        d = abs(out[i, j] - s[i, j])
                        if d > residual or d != d:  # NaN sticks: max() would drop it
                            residual = d
        cur, nxt = nxt, cur
        in_nxt = not in_nxt
    return in_nxt, residual
