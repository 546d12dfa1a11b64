"""A spiking network and its plasticity lowered into the flat tables of a fused engine.

:func:`can_fuse` tells whether a network can run on a backend's fused event-driven kernel
(``k.fused("spiking")``: every plastic projection an STDP chain the kernel runs, the neurons'
state exact); :func:`run_fused` lowers the network and its state into the records of
:mod:`bioplast.backends.spiking_tables`, runs the kernel and reads the state back — the same
``(SimState, Record)`` as the generic engine.  Plastic projections are read from their declared
specs (:func:`~bioplast.dynamics.spiking.network.stdp_projection`); the kernel writes weights and
traces in place in its own buffers (the documented exception to "weights change in
``apply_updates``": the new weights are copied back into a fresh state).
"""

from __future__ import annotations

import math

import numpy as np

from bioplast.backends import spiking_tables as tables
from bioplast.backends.counter_rng import READ_SALT, stream_keys
from bioplast.dynamics.spiking.network import Lowered, stdp_projection
from bioplast.rules.stdp import TripletTraces


def can_fuse(low: Lowered) -> bool:
    """True when every plastic projection is an STDP chain the fused kernel runs and the neurons'
    state is exact (a fixed-point state grid runs on the generic engine)."""
    return not low.state_step.any() and all(
        pr.plasticity is None or stdp_projection(pr.plasticity) is not None for pr in low.projections
    )


def synapse_table(low: Lowered, st, dtype) -> tables.SynapseTable:
    """Projection and STDP tables and the flat weight / trace buffers of a lowered network."""
    n_proj = len(low.projections)
    table = np.zeros((n_proj, tables.PROJECTION_COLUMNS), dtype=np.int64)
    scalars = np.zeros(n_proj)
    chunks, woff, pre_len, post_len = [], 0, 0, 0
    stdp_rows: list[list[float]] = []
    B = int(st.v.shape[0])
    traces_pre, traces_post = [], []
    for p, (pr, (is_src, a, n), (b, m), slot) in enumerate(
        zip(low.projections, low.proj_pre, low.proj_post, low.proj_slot, strict=True)
    ):
        table[p, : tables.KIND + 1] = (int(is_src), a, n, b, m, slot, tables.KINDS[pr.connectivity])
        table[p, tables.PLASTIC] = table[p, tables.READ] = -1
        if pr.connectivity != "dense":
            scalars[p] = float(pr.weights)
            continue
        table[p, tables.WOFF] = woff
        # column-major (W transposed): a presynaptic spike reads and writes one contiguous column
        chunks.append(np.asarray(st.weights[p], dtype=dtype).T.ravel())
        woff += n * m
        if pr.plasticity is None:
            continue
        fs = stdp_projection(pr.plasticity)
        assert fs is not None  # the network passed can_fuse
        r = fs.rule
        table[p, tables.PLASTIC] = len(stdp_rows)
        stdp_rows.append(
            [
                r.a2_plus,
                r.a3_plus,
                r.a2_minus,
                r.a3_minus,
                math.exp(-r.dt / r.tau_plus),
                math.exp(-r.dt / r.tau_x),
                math.exp(-r.dt / r.tau_minus),
                math.exp(-r.dt / r.tau_y),
                float(r.nearest),
                float(r.soft),
                r.w_min,
                r.w_max,
                fs.lr,
                float(fs.lo is not None),
                fs.lo or 0.0,
                fs.hi or 0.0,
                pre_len,
                post_len,
            ]
        )
        tr = st.plasticity[p].rule  # TripletTraces, [1 or B, n]
        traces_pre += [np.broadcast_to(np.asarray(x, dtype=dtype), (B, n)).ravel() for x in (tr.r1, tr.r2)]
        traces_post += [np.broadcast_to(np.asarray(x, dtype=dtype), (B, m)).ravel() for x in (tr.o1, tr.o2)]
        pre_len += 2 * B * n
        post_len += 2 * B * m

    def cat(xs):
        return np.concatenate(xs).astype(dtype) if xs else np.zeros(1, dtype)

    stdp = (
        np.asarray(stdp_rows, dtype=np.float64).reshape(-1, tables.STDP_COLUMNS)
        if stdp_rows
        else np.zeros((1, tables.STDP_COLUMNS))
    )
    return tables.SynapseTable(
        table, scalars.astype(dtype), cat(chunks), stdp.astype(dtype), cat(traces_pre), cat(traces_post)
    )


def read_table(low: Lowered, st, steps: int, table) -> tables.ReadTable:
    """Per projection with read noise: the keys of its draws at the run's ``steps`` steps (the generic
    engine's: stream ``(read_seed, step, READ_SALT + p)``), and its σ; marks the projection's row."""
    k0, k1 = [], []
    sigma: list[float] = []
    for p, pr in enumerate(low.projections):
        if pr.read_noise and pr.connectivity == "dense":
            table[p, tables.READ] = len(sigma)
            keys = stream_keys(pr.read_seed, np.arange(st.step, st.step + steps), READ_SALT + p)
            k0.append(keys[0])
            k1.append(keys[1])
            sigma.append(pr.read_noise)
    if not sigma:
        return tables.ReadTable(np.zeros((1, 1), np.uint32), np.zeros((1, 1), np.uint32), np.zeros(1))
    return tables.ReadTable(np.stack(k0), np.stack(k1), np.asarray(sigma, dtype=np.float64))


def neuron_table(low: Lowered, dtype) -> tables.NeuronTable:
    params = [np.asarray(x, dtype=dtype) for x in low.neuron_parameters()]
    return tables.NeuronTable._make([*params, low.ref_steps, np.exp(-low.dt / low.tau_mem).astype(dtype)])


def run_fused(kernel, k, low: Lowered, st, src_spikes, current, learn: bool, record: tuple):
    """Run the fused ``kernel`` from state ``st``; returns ``(state, counts, recorded, writes)`` for the
    engine to build its :class:`~bioplast.dynamics.spiking.engine.Record` from."""
    dtype = k.dtype
    T, B = src_spikes.shape[:2]
    N = low.n_neurons
    syn = synapse_table(low, st, dtype)
    reads = read_table(low, st, int(T), syn.table)
    state = tables.NetState._make(
        [
            *(np.array(x, dtype=dtype) for x in (st.v, st.ge, st.gi, st.theta)),
            np.rint(np.asarray(st.refractory)).astype(np.int64),
            np.zeros((B, N), dtype=np.int64),
        ]
    )
    has_current = current is not None
    inputs = tables.Inputs(
        np.ascontiguousarray(src_spikes),
        np.ascontiguousarray(current, dtype=dtype) if has_current else np.zeros((1, 1, 1), dtype),
        has_current,
    )
    rec = tables.Recording(
        np.zeros((T, B, N) if "spikes" in record else (1, 1, 1), dtype=np.uint8),
        "spikes" in record,
        np.zeros((T, B, N) if "v" in record else (1, 1, 1), dtype=dtype),
        "v" in record,
        np.zeros(1, dtype=np.int64),
    )
    kernel(
        neuron_table(low, dtype), state, syn, inputs, bool(learn), rec, reads._replace(sigma=reads.sigma.astype(dtype))
    )
    weights, states = list(st.weights), list(st.plasticity)
    for p, pr in enumerate(low.projections):
        if pr.connectivity != "dense":
            continue
        n, m = low.proj_pre[p][2], low.proj_post[p][1]
        off = syn.table[p, tables.WOFF]
        weights[p] = np.ascontiguousarray(syn.wflat[off : off + n * m].reshape(n, m).T)
        if pr.plasticity is not None and learn:
            row = syn.stdp[syn.table[p, tables.PLASTIC]]
            a, o = int(row[tables.TPRE]), int(row[tables.TPOST])
            pre = [syn.tr_pre[a + i * B * n : a + (i + 1) * B * n].reshape(B, n).copy() for i in range(2)]
            post = [syn.tr_post[o + i * B * m : o + (i + 1) * B * m].reshape(B, m).copy() for i in range(2)]
            states[p] = states[p]._replace(rule=TripletTraces(pre[0], pre[1], post[0], post[1]))
    new = st._replace(
        v=state.v,
        ge=state.ge,
        gi=state.gi,
        theta=state.theta,
        refractory=state.ref.astype(dtype),
        weights=tuple(weights),
        plasticity=tuple(states),
        step=st.step + int(src_spikes.shape[0]),
    )
    recorded = {name: arr for name, arr in (("spikes", rec.spikes.astype(bool)), ("v", rec.v)) if name in record}
    return new, state.counts, recorded, int(rec.writes[0])
