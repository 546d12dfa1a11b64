"""The fused, event-driven numba engine for spiking networks.

One compiled loop runs all steps of a presentation: neuron update, spike
delivery and STDP, with the semantics of the generic engine in
:mod:`bioplast.dynamics.spiking.engine` (the tests hold the two equal).  Work
follows the spikes: delivery adds one weight column per presynaptic spike,
and STDP touches only the rows of neurons that fired and the columns of
inputs that fired — the rest of ``W`` is never read in a step.

Buffers are flat: all dense weight matrices in one array (each stored
column-major, so the column a presynaptic spike touches is contiguous — the
row-major layout made every delivered or depressed synapse a cache miss),
all traces in another, addressed through offset tables, so one kernel serves any number
of projections without typed containers.

A projection with read noise draws its errors from the counter-based stream
the generic engine uses (keys precomputed for the run's steps), element for
element, and only for samples whose presynaptic side spiked (the others' error
is 0): the two engines add the same noise.

The kernel's arguments are the flat tables of :mod:`bioplast.backends.spiking_tables`; the
lowering of a network into them is :mod:`bioplast.dynamics.spiking.lowering`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from bioplast.backends.numba.device import _normals_into
from bioplast.backends.spiking_tables import (
    A2M,
    A2P,
    A3M,
    A3P,
    DM,
    DP,
    DX,
    DY,
    HAS_CLIP,
    HI,
    IS_SRC,
    KIND,
    LO,
    LR,
    NEAREST,
    NPOST,
    NPRE,
    PLASTIC,
    POST0,
    PRE0,
    READ,
    SLOT,
    SOFT,
    TPOST,
    TPRE,
    WMAX,
    WMIN,
    WOFF,
)

_opts: dict[str, Any] = dict(cache=True, nogil=True)
_IS_SRC, _PRE0, _NPRE, _POST0, _NPOST, _SLOT, _KIND, _WOFF, _PLASTIC, _READ = (
    IS_SRC,
    PRE0,
    NPRE,
    POST0,
    NPOST,
    SLOT,
    KIND,
    WOFF,
    PLASTIC,
    READ,
)
(_A2P, _A3P, _A2M, _A3M, _DP, _DX, _DM, _DY, _NEAREST, _SOFT, _WMIN, _WMAX, _LR, _HAS_CLIP, _LO, _HI, _TPRE, _TPOST) = (
    A2P,
    A3P,
    A2M,
    A3M,
    DP,
    DX,
    DM,
    DY,
    NEAREST,
    SOFT,
    WMIN,
    WMAX,
    LR,
    HAS_CLIP,
    LO,
    HI,
    TPRE,
    TPOST,
)


_TINY = 1e-30


@njit(inline="always", **_opts)
def _flush(x):
    # decaying variables sink into the subnormal range after a few hundred silent
    # steps, where every multiply costs ~100 cycles; below 1e-30 they are zero for
    # any purpose (the generic engine keeps them; both agree far inside tolerance)
    return x if abs(x) > _TINY else x * 0


@njit(inline="always", **_opts)
def _neurons(t, st, spk, inputs, nt):
    v, ge, gi, theta, ref, counts = st.v, st.ge, st.gi, st.theta, st.ref, st.counts
    cur, has_cur = inputs.current, inputs.has_current
    cond, v_rest, v_thresh, dt_over_tau, resistance = nt.cond, nt.v_rest, nt.v_thresh, nt.dt_over_tau, nt.resistance
    e_exc, e_inh, decay_ge, decay_gi, theta_plus = nt.e_exc, nt.e_inh, nt.decay_ge, nt.decay_gi, nt.theta_plus
    decay_theta, ref_steps, alpha = nt.decay_theta, nt.ref_steps, nt.alpha
    B, N = v.shape
    for b in range(B):
        for n in range(N):
            r = ref[b, n] - 1
            if r < 0:
                r = 0
            vv = v[b, n]
            g_e, g_i = ge[b, n], gi[b, n]
            if r == 0:
                c = cond[n]
                if c > 0 and g_e == 0 and g_i == 0:
                    # a conductance neuron without input relaxes with its leak alone
                    vv = v_rest[n] + (vv - v_rest[n]) * alpha[n]
                else:
                    g_sum = 1 + c * (g_e + g_i)
                    drive = v_rest[n] + c * (g_e * e_exc[n] + g_i * e_inh[n]) + (1 - c) * resistance[n] * g_e
                    if has_cur:
                        drive += (1 - c) * resistance[n] * cur[t, b, n]
                    target = drive / g_sum
                    vv = target + (vv - target) * (alpha[n] if c == 0 else math.exp(-g_sum * dt_over_tau[n]))
            ge[b, n] = _flush(g_e * decay_ge[n])
            gi[b, n] = _flush(g_i * decay_gi[n])
            th = theta[b, n] * decay_theta[n]
            if r == 0 and vv > v_thresh[n] + th:  # the reset waits for delivery (see _reset)
                th += theta_plus[n]
                r = ref_steps[n]
                spk[b, n] = 1
                counts[b, n] += 1
            else:
                spk[b, n] = 0
            v[b, n] = vv
            theta[b, n] = th
            ref[b, n] = r


@njit(inline="always", **_opts)
def _spiked(t, b, j, is_src, src, spk):
    return src[t, b, j] if is_src else spk[b, j]


@njit(inline="always", **_opts)
def _reset(v, spk_ev, n_spk, v_thresh, v_reset, subtract):
    for b in range(v.shape[0]):
        for e in range(n_spk[b]):
            n = spk_ev[b, e]
            v[b, n] = v[b, n] - (v_thresh[n] - v_reset[n]) if subtract[n] > 0 else v_reset[n]


@njit(inline="always", **_opts)
def _events(spikes, out, count):
    """Indices of the nonzero entries of each row of ``spikes[B, n]`` into ``out[B, n]``, counts into ``count[B]``."""
    for b in range(spikes.shape[0]):
        c = 0
        for j in range(spikes.shape[1]):
            if spikes[b, j]:
                out[b, c] = j
                c += 1
        count[b] = c


@njit(inline="always", **_opts)
def _deliver(row, ev, n_ev, v, ge, gi, ref, wflat, scalar):
    """Add projection ``row``'s presynaptic spikes (event lists ``ev``/``n_ev`` of its pre side) to its target;
    jumps of ``v`` skip refractory neurons."""
    if row[_SLOT] == 0:
        _deliver_into(row, ev, n_ev, v, ref, True, wflat, scalar)
    else:
        _deliver_into(row, ev, n_ev, ge if row[_SLOT] == 1 else gi, ref, False, wflat, scalar)


@njit(inline="always", **_opts)
def _deliver_into(row, ev, n_ev, target, ref, gated, wflat, scalar):
    n_pre, n_post, pre0, post0, kind = row[_NPRE], row[_NPOST], row[_PRE0], row[_POST0], row[_KIND]
    for b in range(target.shape[0]):
        total = 0
        for e in range(n_ev[b]):
            j = ev[b, e] - pre0
            if j < 0 or j >= n_pre:
                continue
            total += 1
            if kind == 0:
                base = row[_WOFF] + j * n_post
                for i in range(n_post):
                    if not gated or ref[b, post0 + i] == 0:
                        target[b, post0 + i] += wflat[base + i]
            elif not gated or ref[b, post0 + j] == 0:  # one to one; all-but-self takes the self term back below
                target[b, post0 + j] += scalar if kind == 1 else -scalar
        if kind == 2 and total > 0:
            for i in range(n_post):
                if not gated or ref[b, post0 + i] == 0:
                    target[b, post0 + i] += scalar * total


@njit(**_opts)
def _read_error(row, ev, n_ev, target, ref, gated, k0, k1, sigma, z, marks):
    """Sample ``b``'s ``n_b`` presynaptic spikes read ``n_b`` synapses of each postsynaptic row: row ``i``
    gets ``σ √n_b ζ_{b,i}``, ``ζ`` element ``b·n_post + i`` of the draw ``(k₀, k₁)`` (as the generic
    engine's delivery)."""
    n_pre, n_post, pre0, post0 = row[_NPRE], row[_NPOST], row[_PRE0], row[_POST0]
    for b in range(target.shape[0]):
        total = 0
        for e in range(n_ev[b]):
            j = ev[b, e] - pre0
            if 0 <= j < n_pre:
                total += 1
        if total == 0:
            continue
        _normals_into(z[:n_post], marks[:n_post], b * n_post, k0, k1)
        std = sigma * math.sqrt(total)
        for i in range(n_post):
            if not gated or ref[b, post0 + i] == 0:
                target[b, post0 + i] += std * z[i]


@njit(inline="always", **_opts)
def _read(row, ev, n_ev, v, ge, gi, ref, k0, k1, sigma, z, marks):
    if row[_SLOT] == 0:
        _read_error(row, ev, n_ev, v, ref, True, k0, k1, sigma, z, marks)
    else:
        _read_error(row, ev, n_ev, ge if row[_SLOT] == 1 else gi, ref, False, k0, k1, sigma, z, marks)


@njit(inline="always", **_opts)
def _bump(trace, spiked, nearest):
    if spiked == 0:
        return trace
    return 1.0 if nearest else trace + 1.0


@njit(inline="always", **_opts)
def _write(wflat, k, pot, dep, prm):
    """Apply potentiation ``pot`` and depression ``dep`` to weight ``k``: soft bounds, learning
    rate, and the clip of :func:`bioplast.hardware.clip_bounds` on written synapses.
    Returns 1 when the weight changed value (a weight write), else 0."""
    w = wflat[k]
    if prm[_SOFT] > 0:
        u = pot * (prm[_WMAX] - w) - dep * (w - prm[_WMIN])
    else:
        u = pot - dep
    u = u * prm[_LR]
    if u != 0.0:
        old = w
        w = w + u
        if prm[_HAS_CLIP] > 0:
            w = min(max(w, prm[_LO]), prm[_HI])
        wflat[k] = w
        return 1 if w != old else 0
    return 0


@njit(inline="always", **_opts)
def _stdp(
    row,
    prm,
    src,
    spk,
    t,
    pre_ev,
    n_pre_ev,
    spk_ev,
    n_spk,
    wflat,
    tr_pre,
    tr_post,
    row_flag,
    col_flag,
    pot,
    col_factor,
    writes,
):
    """One step of the fused triplet rule (:func:`bioplast.rules.stdp.triplet_stdp`), batch-averaged.

    Only rows of neurons that fired (potentiation, contiguous) and columns of
    inputs that fired (depression) are touched; a synapse in both gets one
    combined change, clipped once, as in the generic engine.
    """
    B = spk.shape[0]
    n_pre, n_post, pre0, post0, w0 = row[_NPRE], row[_NPOST], row[_PRE0], row[_POST0], row[_WOFF]
    is_src = row[_IS_SRC] == 1
    a, o = int(prm[_TPRE]), int(prm[_TPOST])
    sp, sq = B * n_pre, B * n_post  # offset of the second trace of each side
    nearest = prm[_NEAREST] > 0
    # decay every trace (tight loops, so they vectorise)
    _decay(tr_pre, a, sp, prm[_DP])
    _decay(tr_pre, a + sp, sp, prm[_DX])
    _decay(tr_post, o, sq, prm[_DM])
    _decay(tr_post, o + sq, sq, prm[_DY])
    # mark columns / rows that spiked in any sample, from the step's event lists
    col_flag[:n_pre] = 0
    row_flag[:n_post] = 0
    any_pre = _mark(pre_ev, n_pre_ev, pre0, n_pre, col_flag)
    any_post = _mark(spk_ev, n_spk, post0, n_post, row_flag)
    inv_b = 1.0 / B
    if any_pre:  # the presynaptic factor of every column that fired, per sample: s_pre (A₂⁻ + A₃⁻ r₂) / B
        for b in range(B):
            for j in range(n_pre):
                if col_flag[j]:
                    fired = _spiked(t, b, pre0 + j, is_src, src, spk)
                    col_factor[b * n_pre + j] = (
                        (prm[_A2M] + prm[_A3M] * tr_pre[a + sp + b * n_pre + j]) * inv_b if fired else 0.0
                    )
    if any_post:
        for i in range(n_post):
            if row_flag[i] == 0:
                continue
            for j in range(n_pre):
                pot[j] = 0.0
            for b in range(B):
                if spk[b, post0 + i] == 0:
                    continue
                gain = (prm[_A2P] + prm[_A3P] * tr_post[o + sq + b * n_post + i]) * inv_b
                for j in range(n_pre):
                    r1 = tr_pre[a + b * n_pre + j]
                    if nearest:  # r₁ as bumped by this step's presynaptic spike (pre pathway runs first)
                        r1_now = 1.0 if col_flag[j] and _spiked(t, b, pre0 + j, is_src, src, spk) else r1
                    else:
                        r1_now = r1 + (1.0 if col_flag[j] and _spiked(t, b, pre0 + j, is_src, src, spk) else 0.0)
                    pot[j] += gain * r1_now
            for j in range(n_pre):
                dep = _depression(col_factor, tr_post, o, B, n_pre, n_post, i, j) if col_flag[j] else 0.0
                writes[0] += _write(wflat, w0 + j * n_post + i, pot[j], dep, prm)
    if any_pre:
        for j in range(n_pre):
            if col_flag[j] == 0:
                continue
            for i in range(n_post):
                if row_flag[i] == 0:  # rows that fired were written above, with both terms
                    dep = _depression(col_factor, tr_post, o, B, n_pre, n_post, i, j)
                    writes[0] += _write(wflat, w0 + j * n_post + i, 0.0, dep, prm)
    # this step's spikes enter the traces
    _bump_events(tr_pre, a, sp, pre_ev, n_pre_ev, pre0, n_pre, nearest)
    _bump_events(tr_post, o, sq, spk_ev, n_spk, post0, n_post, nearest)


@njit(inline="always", **_opts)
def _decay(trace, start, n, factor):
    for x in range(start, start + n):
        trace[x] = _flush(trace[x] * factor)


@njit(inline="always", **_opts)
def _mark(ev, n_ev, start, n, flag):
    """Flag the entries ``start ≤ k < start + n`` of the event lists; True if any."""
    hit = False
    for b in range(ev.shape[0]):
        for e in range(n_ev[b]):
            j = ev[b, e] - start
            if 0 <= j < n:
                flag[j] = 1
                hit = True
    return hit


@njit(inline="always", **_opts)
def _bump_events(trace, base, stride, ev, n_ev, start, n, nearest):
    """Both traces of one side (``base`` and ``base + stride``) take this step's spikes."""
    for b in range(ev.shape[0]):
        for e in range(n_ev[b]):
            j = ev[b, e] - start
            if 0 <= j < n:
                x = base + b * n + j
                trace[x] = _bump(trace[x], 1, nearest)
                trace[x + stride] = _bump(trace[x + stride], 1, nearest)


@njit(inline="always", **_opts)
def _depression(col_factor, tr_post, o, B, n_pre, n_post, i, j):
    """``Σ_b o₁[b, i] · col_factor[b, j]``: the batch-averaged depression of synapse ``(i, j)``."""
    dep = 0.0
    for b in range(B):
        dep += col_factor[b * n_pre + j] * tr_post[o + b * n_post + i]
    return dep


@njit(**_opts)
def simulate_fused(nt, st, syn, inputs, learn, rec, reads):
    """All ``T`` steps of a lowered network (:mod:`bioplast.backends.spiking_tables`): ``nt`` the
    neuron table, ``st`` the state (updated in place), ``syn`` the synapse tables (weights and traces
    updated in place), ``inputs``, ``learn``, ``rec`` (filled in place; ``rec.writes[0]`` counts
    weight writes) and ``reads`` (the read-noise keys)."""
    src = inputs.src
    v = st.v
    T, B = src.shape[0], src.shape[1]
    N = v.shape[1]
    table, scalars, wflat, stdp, tr_pre, tr_post = syn.table, syn.scalars, syn.wflat, syn.stdp, syn.tr_pre, syn.tr_post
    writes = rec.writes
    spk = np.zeros((B, N), dtype=np.uint8)
    widest = 1
    for p in range(table.shape[0]):
        widest = max(widest, table[p, _NPRE], table[p, _NPOST])
    row_flag = np.zeros(widest, dtype=np.uint8)
    col_flag = np.zeros(widest, dtype=np.uint8)
    pot = np.zeros(widest, dtype=wflat.dtype)  # one row of potentiation
    col_factor = np.zeros(B * widest, dtype=wflat.dtype)  # per sample and column: the depression factor
    src_ev, n_src = np.zeros((B, src.shape[2]), dtype=np.int64), np.zeros(B, dtype=np.int64)
    spk_ev, n_spk = np.zeros((B, N), dtype=np.int64), np.zeros(B, dtype=np.int64)
    z, marks = np.zeros(widest), np.zeros(widest, dtype=np.uint32)  # one row of read-noise draws
    for t in range(T):
        _neurons(t, st, spk, inputs, nt)
        _events(src[t], src_ev, n_src)
        _events(spk, spk_ev, n_spk)
        for p in range(table.shape[0]):
            r = table[p, _READ]
            if table[p, _IS_SRC]:
                _deliver(table[p], src_ev, n_src, v, st.ge, st.gi, st.ref, wflat, scalars[p])
                if r >= 0:
                    _read(
                        table[p],
                        src_ev,
                        n_src,
                        v,
                        st.ge,
                        st.gi,
                        st.ref,
                        reads.k0[r, t],
                        reads.k1[r, t],
                        reads.sigma[r],
                        z,
                        marks,
                    )
            else:
                _deliver(table[p], spk_ev, n_spk, v, st.ge, st.gi, st.ref, wflat, scalars[p])
                if r >= 0:
                    _read(
                        table[p],
                        spk_ev,
                        n_spk,
                        v,
                        st.ge,
                        st.gi,
                        st.ref,
                        reads.k0[r, t],
                        reads.k1[r, t],
                        reads.sigma[r],
                        z,
                        marks,
                    )
        _reset(v, spk_ev, n_spk, nt.v_thresh, nt.v_reset, nt.subtract)
        if learn:
            for p in range(table.shape[0]):
                if table[p, _PLASTIC] >= 0:
                    if table[p, _IS_SRC]:
                        _stdp(
                            table[p],
                            stdp[table[p, _PLASTIC]],
                            src,
                            spk,
                            t,
                            src_ev,
                            n_src,
                            spk_ev,
                            n_spk,
                            wflat,
                            tr_pre,
                            tr_post,
                            row_flag,
                            col_flag,
                            pot,
                            col_factor,
                            writes,
                        )
                    else:
                        _stdp(
                            table[p],
                            stdp[table[p, _PLASTIC]],
                            src,
                            spk,
                            t,
                            spk_ev,
                            n_spk,
                            spk_ev,
                            n_spk,
                            wflat,
                            tr_pre,
                            tr_post,
                            row_flag,
                            col_flag,
                            pot,
                            col_factor,
                            writes,
                        )
        if rec.do_spikes:
            rec.spikes[t] = spk
        if rec.do_v:
            rec.v[t] = v
