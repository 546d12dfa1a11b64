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
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

from bioplast.rules.stdp import fused_stdp
from bioplast.backends.numba.device import _normals_into

_opts = dict(cache=True, nogil=True)

# projection table columns
_IS_SRC, _PRE0, _NPRE, _POST0, _NPOST, _SLOT, _KIND, _WOFF, _PLASTIC, _READ = range(10)
_KINDS = {"dense": 0, "one_to_one": 1, "all_but_self": 2}
# STDP table columns
(_A2P, _A3P, _A2M, _A3M, _DP, _DX, _DM, _DY, _NEAREST, _SOFT, _WMIN, _WMAX, _LR, _HAS_CLIP, _LO, _HI,
 _TPRE, _TPOST) = range(18)


def can_fuse(low) -> bool:
    """True when every plastic projection is an STDP chain this kernel runs and the neurons' state is
    exact (a fixed-point state grid runs on the generic engine)."""
    return not low.state_step.any() and all(pr.plasticity is None or fused_stdp(pr.plasticity) is not None for pr in low.projections)


_TINY = 1e-30


@njit(inline='always', **_opts)
def _flush(x):
    # decaying variables sink into the subnormal range after a few hundred silent
    # steps, where every multiply costs ~100 cycles; below 1e-30 they are zero for
    # any purpose (the generic engine keeps them; both agree far inside tolerance)
    return x if abs(x) > _TINY else x * 0


@njit(inline='always', **_opts)
def _neurons(t, v, ge, gi, theta, ref, spk, counts, cur, has_cur, cond, v_rest, v_reset, v_thresh,
             dt_over_tau, resistance, e_exc, e_inh, decay_ge, decay_gi, subtract, theta_plus, decay_theta,
             ref_steps, alpha):
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


@njit(inline='always', **_opts)
def _spiked(t, b, j, is_src, src, spk):
    return src[t, b, j] if is_src else spk[b, j]


@njit(inline='always', **_opts)
def _reset(v, spk_ev, n_spk, v_thresh, v_reset, subtract):
    for b in range(v.shape[0]):
        for e in range(n_spk[b]):
            n = spk_ev[b, e]
            v[b, n] = v[b, n] - (v_thresh[n] - v_reset[n]) if subtract[n] > 0 else v_reset[n]


@njit(inline='always', **_opts)
def _events(spikes, out, count):
    """Indices of the nonzero entries of each row of ``spikes[B, n]`` into ``out[B, n]``, counts into ``count[B]``."""
    for b in range(spikes.shape[0]):
        c = 0
        for j in range(spikes.shape[1]):
            if spikes[b, j]:
                out[b, c] = j
                c += 1
        count[b] = c


@njit(inline='always', **_opts)
def _deliver(row, ev, n_ev, v, ge, gi, ref, wflat, scalar):
    """Add projection ``row``'s presynaptic spikes (event lists ``ev``/``n_ev`` of its pre side) to its target;
    jumps of ``v`` skip refractory neurons."""
    if row[_SLOT] == 0:
        _deliver_into(row, ev, n_ev, v, ref, True, wflat, scalar)
    else:
        _deliver_into(row, ev, n_ev, ge if row[_SLOT] == 1 else gi, ref, False, wflat, scalar)


@njit(inline='always', **_opts)
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


@njit(inline='always', **_opts)
def _read(row, ev, n_ev, v, ge, gi, ref, k0, k1, sigma, z, marks):
    if row[_SLOT] == 0:
        _read_error(row, ev, n_ev, v, ref, True, k0, k1, sigma, z, marks)
    else:
        _read_error(row, ev, n_ev, ge if row[_SLOT] == 1 else gi, ref, False, k0, k1, sigma, z, marks)


@njit(inline='always', **_opts)
def _bump(trace, spiked, nearest):
    if spiked == 0:
        return trace
    return 1.0 if nearest else trace + 1.0


@njit(inline='always', **_opts)
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


@njit(inline='always', **_opts)
def _stdp(row, prm, src, spk, t, pre_ev, n_pre_ev, spk_ev, n_spk, wflat, tr_pre, tr_post, row_flag, col_flag, pot,
          col_factor, writes):
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
                    col_factor[b * n_pre + j] = (prm[_A2M] + prm[_A3M] * tr_pre[a + sp + b * n_pre + j]) * inv_b \
                        if fired else 0.0
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


@njit(inline='always', **_opts)
def _decay(trace, start, n, factor):
    for x in range(start, start + n):
        trace[x] = _flush(trace[x] * factor)


@njit(inline='always', **_opts)
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


@njit(inline='always', **_opts)
def _bump_events(trace, base, stride, ev, n_ev, start, n, nearest):
    """Both traces of one side (``base`` and ``base + stride``) take this step's spikes."""
    for b in range(ev.shape[0]):
        for e in range(n_ev[b]):
            j = ev[b, e] - start
            if 0 <= j < n:
                x = base + b * n + j
                trace[x] = _bump(trace[x], 1, nearest)
                trace[x + stride] = _bump(trace[x + stride], 1, nearest)


@njit(inline='always', **_opts)
def _depression(col_factor, tr_post, o, B, n_pre, n_post, i, j):
    """``Σ_b o₁[b, i] · col_factor[b, j]``: the batch-averaged depression of synapse ``(i, j)``."""
    dep = 0.0
    for b in range(B):
        dep += col_factor[b * n_pre + j] * tr_post[o + b * n_post + i]
    return dep


@njit(**_opts)
def simulate_fused(v, ge, gi, theta, ref, counts, src, cur, has_cur, cond, v_rest, v_reset, v_thresh, dt_over_tau,
                   resistance, e_exc, e_inh, decay_ge, decay_gi, subtract, theta_plus, decay_theta, ref_steps,
                   alpha, table, scalars, wflat, stdp, tr_pre, tr_post, learn, rec_spikes, do_spikes, rec_v, do_v,
                   writes, read_k0, read_k1, read_sigma):
    """All ``T`` steps; every state buffer is updated in place (``writes[0]`` counts weight writes)."""
    T, B = src.shape[0], src.shape[1]
    N = v.shape[1]
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
        _neurons(t, v, ge, gi, theta, ref, spk, counts, cur, has_cur, cond, v_rest, v_reset, v_thresh,
                 dt_over_tau, resistance, e_exc, e_inh, decay_ge, decay_gi, subtract, theta_plus, decay_theta,
                 ref_steps, alpha)
        _events(src[t], src_ev, n_src)
        _events(spk, spk_ev, n_spk)
        for p in range(table.shape[0]):
            r = table[p, _READ]
            if table[p, _IS_SRC]:
                _deliver(table[p], src_ev, n_src, v, ge, gi, ref, wflat, scalars[p])
                if r >= 0:
                    _read(table[p], src_ev, n_src, v, ge, gi, ref, read_k0[r, t], read_k1[r, t], read_sigma[r], z,
                          marks)
            else:
                _deliver(table[p], spk_ev, n_spk, v, ge, gi, ref, wflat, scalars[p])
                if r >= 0:
                    _read(table[p], spk_ev, n_spk, v, ge, gi, ref, read_k0[r, t], read_k1[r, t], read_sigma[r], z,
                          marks)
        _reset(v, spk_ev, n_spk, v_thresh, v_reset, subtract)
        if learn:
            for p in range(table.shape[0]):
                if table[p, _PLASTIC] >= 0:
                    if table[p, _IS_SRC]:
                        _stdp(table[p], stdp[table[p, _PLASTIC]], src, spk, t, src_ev, n_src, spk_ev, n_spk,
                              wflat, tr_pre, tr_post, row_flag, col_flag, pot, col_factor, writes)
                    else:
                        _stdp(table[p], stdp[table[p, _PLASTIC]], src, spk, t, spk_ev, n_spk, spk_ev, n_spk,
                              wflat, tr_pre, tr_post, row_flag, col_flag, pot, col_factor, writes)
        if do_spikes:
            rec_spikes[t] = spk
        if do_v:
            rec_v[t] = v


def _tables(low, st, dtype):
    """Projection and STDP tables and the flat weight / trace buffers of a lowered network."""
    n_proj = len(low.projections)
    table = np.zeros((n_proj, 10), dtype=np.int64)
    scalars = np.zeros(n_proj)
    chunks, woff, stdp_rows, pre_len, post_len = [], 0, [], 0, 0
    B = int(st.v.shape[0])
    traces_pre, traces_post = [], []
    for p, (pr, (is_src, a, n), (b, m), slot) in enumerate(zip(low.projections, low.proj_pre, low.proj_post,
                                                                low.proj_slot)):
        table[p, :_KIND + 1] = (int(is_src), a, n, b, m, slot, _KINDS[pr.connectivity])
        table[p, _PLASTIC] = table[p, _READ] = -1
        if pr.connectivity != "dense":
            scalars[p] = float(pr.weights)
            continue
        table[p, _WOFF] = woff
        # column-major (W transposed): a presynaptic spike reads and writes one contiguous column
        chunks.append(np.asarray(st.weights[p], dtype=dtype).T.ravel())
        woff += n * m
        if pr.plasticity is None:
            continue
        fs = fused_stdp(pr.plasticity)
        r = fs.rule
        table[p, _PLASTIC] = len(stdp_rows)
        stdp_rows.append([r.a2_plus, r.a3_plus, r.a2_minus, r.a3_minus, math.exp(-r.dt / r.tau_plus),
                          math.exp(-r.dt / r.tau_x), math.exp(-r.dt / r.tau_minus), math.exp(-r.dt / r.tau_y),
                          float(r.nearest), float(r.soft), r.w_min, r.w_max, fs.lr, float(fs.lo is not None),
                          fs.lo or 0.0, fs.hi or 0.0, pre_len, post_len])
        tr = st.plasticity[p].rule  # TripletTraces, [1 or B, n]
        traces_pre += [np.broadcast_to(np.asarray(x, dtype=dtype), (B, n)).ravel() for x in (tr.r1, tr.r2)]
        traces_post += [np.broadcast_to(np.asarray(x, dtype=dtype), (B, m)).ravel() for x in (tr.o1, tr.o2)]
        pre_len += 2 * B * n
        post_len += 2 * B * m
    cat = (lambda xs: np.concatenate(xs).astype(dtype) if xs else np.zeros(1, dtype))
    stdp = np.asarray(stdp_rows, dtype=np.float64).reshape(-1, 18) if stdp_rows else np.zeros((1, 18))
    return table, scalars.astype(dtype), cat(chunks), stdp.astype(dtype), cat(traces_pre), cat(traces_post)


def _read_keys(low, st, T: int, table):
    """Per projection with read noise: the keys of its draws at the run's ``T`` steps, and its σ."""
    from bioplast.dynamics.spiking.engine import READ_SALT
    from bioplast.backends.counter_rng import stream_keys

    k0, k1, sigma = [], [], []
    for p, pr in enumerate(low.projections):
        if pr.read_noise and pr.connectivity == "dense":
            table[p, _READ] = len(sigma)
            keys = stream_keys(pr.read_seed, np.arange(st.step, st.step + T), READ_SALT + p)
            k0.append(keys[0])
            k1.append(keys[1])
            sigma.append(pr.read_noise)
    if not sigma:
        return np.zeros((1, 1), np.uint32), np.zeros((1, 1), np.uint32), np.zeros(1)
    return np.stack(k0), np.stack(k1), np.asarray(sigma, dtype=np.float64)


def run(k, low, st, src_spikes, current, learn: bool, record: tuple):
    """Run the fused kernel from state ``st``; returns ``(SimState, Record)`` like the generic engine."""
    from bioplast.dynamics.spiking.engine import _record
    from bioplast.rules.stdp import TripletTraces

    dtype = k.dtype
    T, B = src_spikes.shape[:2]
    N = low.n_neurons
    v, ge, gi, theta = (np.array(x, dtype=dtype) for x in (st.v, st.ge, st.gi, st.theta))
    ref = np.rint(np.asarray(st.refractory)).astype(np.int64)
    table, scalars, wflat, stdp, tr_pre, tr_post = _tables(low, st, dtype)
    read_k0, read_k1, read_sigma = _read_keys(low, st, int(T), table)
    params = [np.asarray(x, dtype=dtype) for x in low.neuron_parameters()]
    cur = np.ascontiguousarray(current, dtype=dtype) if current is not None else np.zeros((1, 1, 1), dtype)
    counts = np.zeros((B, N), dtype=np.int64)
    writes = np.zeros(1, dtype=np.int64)
    rec_spikes = np.zeros((T, B, N) if "spikes" in record else (1, 1, 1), dtype=np.uint8)
    rec_v = np.zeros((T, B, N) if "v" in record else (1, 1, 1), dtype=dtype)
    simulate_fused(v, ge, gi, theta, ref, counts, np.ascontiguousarray(src_spikes), cur, current is not None,
                   *params, low.ref_steps, np.exp(-low.dt / low.tau_mem).astype(dtype), table, scalars, wflat, stdp, tr_pre, tr_post, bool(learn),
                   rec_spikes, "spikes" in record, rec_v, "v" in record, writes, read_k0, read_k1,
                   read_sigma.astype(dtype))
    weights, states = list(st.weights), list(st.plasticity)
    for p, pr in enumerate(low.projections):
        if pr.connectivity != "dense":
            continue
        n, m = low.proj_pre[p][2], low.proj_post[p][1]
        weights[p] = np.ascontiguousarray(wflat[table[p, _WOFF]:table[p, _WOFF] + n * m].reshape(n, m).T)
        if pr.plasticity is not None and learn:
            row = stdp[table[p, _PLASTIC]]
            a, o = int(row[_TPRE]), int(row[_TPOST])
            pre = [tr_pre[a + i * B * n:a + (i + 1) * B * n].reshape(B, n).copy() for i in range(2)]
            post = [tr_post[o + i * B * m:o + (i + 1) * B * m].reshape(B, m).copy() for i in range(2)]
            traces = TripletTraces(pre[0], pre[1], post[0], post[1])
            states[p] = states[p]._replace(rule=traces)
    new = st._replace(v=v, ge=ge, gi=gi, theta=theta, refractory=ref.astype(dtype), weights=tuple(weights),
                      plasticity=tuple(states), step=st.step + int(src_spikes.shape[0]))
    recorded = {name: arr for name, arr in (("spikes", rec_spikes.astype(bool)), ("v", rec_v)) if name in record}
    return new, _record(low, counts, recorded, src_spikes, int(writes[0]))
