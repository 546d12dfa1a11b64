"""Simulate a :class:`~bioplast.dynamics.spiking.network.SpikingNetwork` on any backend.

One step, in Brian2's schedule (equations in :mod:`bioplast.dynamics.spiking.neurons`)::

    1. refractory counters tick; active neurons integrate (exponential Euler)
    2. synaptic variables and adaptive thresholds decay
    3. threshold; threshold increment; refractory counter set
    4. every projection adds its presynaptic spikes to its target variable
       (jumps of ``v`` are dropped for refractory neurons, as Brian2's
       conditional write of ``(unless refractory)`` variables does)
    5. reset of the neurons that fired
    6. plastic projections: signals Local(pre spikes, post spikes, modulator) →
       rule → transforms → apply_updates

The generic engine below is written once with array operators and the
kernel vocabulary, so it runs on numpy, numba and torch (CPU or CUDA,
batched over samples).  On the numba backend, networks whose plasticity is
an STDP-family rule with additive / clip-bound transforms run in one fused
event-driven kernel (:mod:`bioplast.backends.numba.spiking`) instead; the two
agree (tests).  ``engine="generic"`` forces the generic path.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from bioplast.backends import get_backend
from bioplast.backends.counter_rng import READ_SALT, stream_key
from bioplast.core import Local
from bioplast.dynamics.spiking.lowering import can_fuse, run_fused
from bioplast.dynamics.spiking.network import Lowered, SpikingNetwork, lower
from bioplast.errors import ConfigError, DataError

RECORDABLE = ("spikes", "v")


class SimState(NamedTuple):
    """Dynamic state, ``[B, N]`` over all neurons of all populations, plus weights and rule states."""

    v: Any
    ge: Any
    gi: Any
    theta: Any
    refractory: Any  # steps left (float, 0 when free)
    weights: tuple  # per projection: backend array (dense) or None
    plasticity: tuple  # per projection: PlasticityState or None
    step: int = 0  # steps simulated so far (keys the devices' read-noise draws)


class Record(NamedTuple):
    """Host arrays per population: spike ``counts[B, n]``; ``spikes[T, B, n]`` (bool) and
    ``v[T, B, n]`` when asked for in ``record``; ``ops``: the run's operation counts
    (see :func:`operation_counts`), for energy estimates
    (:func:`bioplast.hardware.energy.estimate_energy`)."""

    counts: dict
    spikes: dict
    v: dict
    ops: dict


def initial_state(net: SpikingNetwork, k, batch: int, low: Lowered | None = None) -> SimState:
    """Neurons at rest (``v = v_rest``, θ = θ_init, no conductance), weights from the description."""
    low = low or lower(net)
    n = low.n_neurons
    zeros = k.zeros((batch, n))
    weights, states = [], []
    for pr in net.projections:
        if pr.connectivity == "dense":
            w = k.asarray(np.asarray(pr.weights, dtype=np.float64))
            weights.append(w)
            states.append(pr.plasticity.init(k, w) if pr.plasticity is not None else None)
        else:
            weights.append(None)
            states.append(None)
    return SimState(
        zeros + k.asarray(low.v_rest),
        zeros,
        zeros + 0,
        zeros + k.asarray(low.theta_init),
        zeros + 0,
        tuple(weights),
        tuple(states),
    )


def _inputs(net: SpikingNetwork, low: Lowered, inputs: dict):
    """Validate ``inputs`` (source spikes and external currents):
    ``(T, B, spikes[T,B,n_in], current[T,B,N] | None)``."""
    if not isinstance(inputs, dict):
        raise DataError(f"inputs must be a dict name -> array[T, B, n], got {type(inputs).__name__}")
    known = set(low.source_offsets) | set(low.offsets)
    unknown = sorted(set(inputs) - known)
    if unknown:
        raise ConfigError(f"inputs name unknown sources/populations {unknown}; known: {sorted(known)}")
    missing = sorted(set(low.source_offsets) - set(inputs))
    if missing:
        raise DataError(f"inputs lack spike trains for sources {missing}")
    shapes = {name: np.shape(x) for name, x in inputs.items()}
    if not shapes:
        raise DataError("inputs is empty: give spike trains or currents with a time axis [T, B, n]")
    for name, shp in shapes.items():
        size = net.size(name)
        if len(shp) != 3 or shp[2] != size:
            raise DataError(f"inputs[{name!r}] must have shape (T, B, {size}), got {shp}")
    tb = {shp[:2] for shp in shapes.values()}
    if len(tb) != 1:
        raise DataError(f"all inputs must share (T, B); got {shapes}")
    T, B = tb.pop()
    if T == 0 or B == 0:
        raise DataError(f"inputs need T >= 1 steps and B >= 1 samples, got T={T}, B={B}")
    spikes = np.zeros((T, B, low.n_inputs), dtype=np.uint8)
    for name, (a, n) in low.source_offsets.items():
        x = np.asarray(inputs[name])
        if x.dtype != bool and not np.isin(x, (0, 1)).all():
            raise DataError(f"inputs[{name!r}] are spikes and must be 0/1 or bool")
        spikes[:, :, a : a + n] = x
    current = None
    for name, (a, n) in low.offsets.items():
        if name in inputs:
            x = np.asarray(inputs[name], dtype=np.float64)
            if not np.isfinite(x).all():
                raise DataError(f"inputs[{name!r}] (external current) must be finite")
            if current is None:
                current = np.zeros((T, B, low.n_neurons))
            current[:, :, a : a + n] = x
    return T, B, spikes, current


class _Params(NamedTuple):
    cond: Any
    v_rest: Any
    v_reset: Any
    v_thresh: Any
    dt_over_tau: Any
    resistance: Any
    e_exc: Any
    e_inh: Any
    decay_ge: Any
    decay_gi: Any
    subtract: Any
    theta_plus: Any
    decay_theta: Any
    ref_steps: Any
    state_grid: Any  # None, or (step, top, mask): the fixed-point state of the neurons where mask is 1


def _params(k, low: Lowered) -> _Params:
    grid = None
    if low.state_step.any():
        on = low.state_step > 0
        grid = tuple(
            k.asarray(x) for x in (np.where(on, low.state_step, 1.0), np.where(on, low.state_max, 0.0), on * 1.0)
        )
    return _Params._make([*(k.asarray(x) for x in (*low.neuron_parameters(), low.ref_steps.astype(np.float64))), grid])


def to_state_grid(k, x, grid):
    """``x`` on the fixed-point levels ``k·step`` (nearest, ties to even), saturating at ``±top``, where
    the grid's mask is 1; unchanged elsewhere."""
    if grid is None:
        return x
    step, top, mask = grid
    xp = k.xp
    on_grid = xp.minimum(xp.maximum(xp.round(x / step) * step, -top), top)
    return xp.where(mask > 0, on_grid, x)


def neuron_step(k, p: _Params, st: SimState, current):
    """Steps 1–3 for every neuron at once; returns ``(fired, spikes as 0/1 floats, v before reset, ge, gi, θ,
    refractory)``."""
    xp = k.xp
    ref = st.refractory - 1
    ref = ref * (ref > 0)
    active = ref <= 0
    g_sum = 1 + p.cond * (st.ge + st.gi)
    drive = p.v_rest + p.cond * (st.ge * p.e_exc + st.gi * p.e_inh) + (1 - p.cond) * p.resistance * st.ge
    if current is not None:
        drive = drive + (1 - p.cond) * p.resistance * current
    target = drive / g_sum
    v = to_state_grid(
        k, xp.where(active, target + (st.v - target) * xp.exp(-g_sum * p.dt_over_tau), st.v), p.state_grid
    )
    theta = st.theta * p.decay_theta
    fired = active & (v > p.v_thresh + theta)
    zero = v * 0
    spikes = xp.where(fired, zero + 1, zero)  # 0/1 in the backend's float dtype
    theta = theta + p.theta_plus * spikes
    ref = xp.where(fired, p.ref_steps + zero, ref)
    return fired, spikes, v, to_state_grid(k, st.ge * p.decay_ge, p.state_grid), st.gi * p.decay_gi, theta, ref


def reset(k, p: _Params, fired, v):
    """Step 5: ``v ← v_reset`` (zero reset) or ``v ← v − (v_thresh − v_reset)`` (subtract) where fired."""
    reset_to = p.subtract * (v - (p.v_thresh - p.v_reset)) + (1 - p.subtract) * p.v_reset
    return k.xp.where(fired, reset_to, v)


def _deliver(k, low: Lowered, weights, src, spikes, slots, free, step: int = 0):
    """Step 4; ``free`` (1 where not refractory) gates jumps of ``v``.  A projection with
    ``read_noise`` adds the error of its reads: sample ``b``'s ``n_b`` presynaptic spikes read ``n_b``
    synapses of every postsynaptic row, so row ``i`` receives ``σ √n_b ζ_{b,i}``, ``ζ ~ N(0, 1)`` —
    exact in distribution, one draw per row instead of one per read."""
    for p, ((from_src, a, n), (b, m), slot, pr, w) in enumerate(
        zip(low.proj_pre, low.proj_post, low.proj_slot, low.projections, weights, strict=True)
    ):
        s_pre = (src if from_src else spikes)[:, a : a + n]
        if pr.connectivity == "dense":
            inc = k.linear(s_pre, w)
            if pr.read_noise:
                # 0/1 spikes: ‖s_b‖ = √n_b
                inc = inc + k.read_error(stream_key(pr.read_seed, step, READ_SALT + p), s_pre, pr.read_noise, m)
        elif pr.connectivity == "one_to_one":
            inc = s_pre * float(pr.weights)
        else:
            inc = (s_pre.sum(1)[:, None] - s_pre) * float(pr.weights)
        slots[slot][:, b : b + m] += inc * free[:, b : b + m] if slot == 0 else inc


def _learn(k, low: Lowered, st: SimState, src, spikes, mod):
    """Step 6; also returns how many synapses changed value (the weight writes of the step)."""
    weights, states = list(st.weights), list(st.plasticity)
    writes = 0
    for i, ((from_src, a, n), (b, m), pr) in enumerate(zip(low.proj_pre, low.proj_post, low.projections, strict=True)):
        if pr.plasticity is None:
            continue
        pre = (src if from_src else spikes)[:, a : a + n]
        weights[i], states[i] = pr.plasticity.apply(k, Local(pre, spikes[:, b : b + m], mod), states[i], weights[i])
        writes = writes + (weights[i] != st.weights[i]).sum()
    return tuple(weights), tuple(states), writes


def operation_counts(low: Lowered, src_spikes, counts, writes: int, steps: int) -> dict:
    """What a neuromorphic chip would do for this run, summed over samples:

    * ``spikes``: spikes emitted by all populations;
    * ``synops``: synaptic events, one per (presynaptic spike, outgoing synapse) —
      a dense projection fans out to ``n_post``, one-to-one to 1, all-but-self to ``n − 1``;
    * ``neuron_updates``: neuron state updates, ``steps × samples × neurons``;
    * ``weight_writes``: synapses whose weight changed, summed over steps.
    """
    src_total = src_spikes.sum(axis=(0, 1)) if src_spikes.size else np.zeros(0)
    neuron_total = counts.sum(axis=0)
    synops = 0
    for (from_src, a, n), (_, m), pr in zip(low.proj_pre, low.proj_post, low.projections, strict=True):
        fired = int((src_total if from_src else neuron_total)[a : a + n].sum())
        synops += fired * {"dense": m, "one_to_one": 1, "all_but_self": m - 1}[pr.connectivity]
    return {
        "spikes": int(neuron_total.sum()),
        "synops": int(synops),
        "neuron_updates": int(steps * counts.shape[0] * low.n_neurons),
        "weight_writes": int(writes),
    }


def simulate(
    net: SpikingNetwork,
    inputs: dict,
    *,
    backend="numpy",
    state: SimState | None = None,
    learn: bool = True,
    record=(),
    modulator=None,
    engine: str = "auto",
):
    """Run ``net`` for the ``T`` steps of ``inputs``; returns ``(state, Record)``.

    ``inputs``: source name → spikes ``[T, B, n]`` (bool or 0/1), and optionally
    population name → external current ``[T, B, n]``.  ``modulator``: ``[T, B]``
    (or ``[T, B, n_post]``) third factor for plastic projections that read one.
    ``learn=False`` freezes every weight.  ``record`` ⊆ ``("spikes", "v")``.
    """
    k = get_backend(backend)
    bad = sorted(set(record) - set(RECORDABLE))
    if bad:
        raise ConfigError(f"record may contain {RECORDABLE}, got {bad}")
    if engine not in ("auto", "generic", "fused"):
        raise ConfigError(f"engine must be 'auto', 'generic' or 'fused', got {engine!r}")
    low = lower(net)
    T, B, src_spikes, current = _inputs(net, low, inputs)
    mod = None
    if modulator is not None:
        mod = np.asarray(modulator, dtype=np.float64)
        if mod.shape[:2] != (T, B) or not np.isfinite(mod).all():
            raise DataError(f"modulator must be finite with shape ({T}, {B}) or ({T}, {B}, n_post), got {mod.shape}")
    st = state if state is not None else initial_state(net, k, B, low)
    if tuple(st.v.shape) != (B, low.n_neurons):
        raise DataError(f"state is for batch {tuple(st.v.shape)[0]}, inputs have batch {B}")
    kernel = k.fused("spiking")
    if engine != "generic" and kernel is not None and mod is None:
        if can_fuse(low):
            st, counts, recorded, writes = run_fused(kernel, k, low, st, src_spikes, current, learn, tuple(record))
            return st, _record(low, counts, recorded, src_spikes, writes)
        if engine == "fused":
            if low.state_step.any():
                raise ConfigError(
                    "the fused engine keeps the neurons' state exact; this network has a "
                    "fixed-point state grid; use engine='auto' or 'generic'"
                )
            plastic = [pr.plasticity.name for pr in low.projections if pr.plasticity is not None]
            raise ConfigError(
                f"the fused engine runs STDP-family rules with additive/clip_bounds transforms; "
                f"this network has {plastic}; use engine='auto' or 'generic'"
            )
    elif engine == "fused":
        raise ConfigError(
            f"the fused engine runs on a backend with a fused spiking kernel (numba) without a "
            f"modulator; got backend {k.name!r}{' with a modulator' if mod is not None else ''}"
        )
    return _run_generic(k, low, st, src_spikes, current, learn, tuple(record), mod)


def _run_generic(k, low, st, src_spikes, current, learn, record, mod):
    p = _params(k, low)
    counts = k.zeros(tuple(st.v.shape))
    keep = {name: [] for name in record}
    src_all = k.asarray(src_spikes.astype(np.float64))
    cur_all = k.asarray(current) if current is not None else None
    mod_all = k.asarray(mod) if mod is not None else None
    writes = 0
    for t in range(src_spikes.shape[0]):
        src = src_all[t]
        fired, spikes, v, ge, gi, theta, ref = neuron_step(k, p, st, None if cur_all is None else cur_all[t])
        v, ge, gi = v + 0, ge + 0, gi + 0  # own copies: delivery adds in place
        _deliver(k, low, st.weights, src, spikes, {0: v, 1: ge, 2: gi}, (ref <= 0) * 1.0, st.step)
        st = st._replace(v=reset(k, p, fired, v), ge=ge, gi=gi, theta=theta, refractory=ref, step=st.step + 1)
        if learn:
            weights, states, changed = _learn(k, low, st, src, spikes, None if mod_all is None else mod_all[t])
            st = st._replace(weights=weights, plasticity=states)
            writes = writes + changed
        counts = counts + spikes
        if "spikes" in keep:
            keep["spikes"].append(spikes > 0)
        if "v" in keep:
            keep["v"].append(st.v + 0)
    recorded = {name: k.to_numpy(k.xp.stack(xs)) for name, xs in keep.items()}  # one transfer per variable
    return st, _record(low, k.to_numpy(counts), recorded, src_spikes, int(writes))


def _record(low, counts, recorded: dict, src_spikes, writes: int) -> Record:
    """The :class:`Record` from host arrays: ``counts[B, N]`` and ``recorded`` name → ``[T, B, N]``."""
    host_counts = np.rint(counts).astype(np.int64)
    per_pop = {name: {p: arr[..., a : a + n] for p, (a, n) in low.offsets.items()} for name, arr in recorded.items()}
    return Record(
        {p: host_counts[:, a : a + n] for p, (a, n) in low.offsets.items()},
        per_pop.get("spikes", {}),
        per_pop.get("v", {}),
        operation_counts(low, src_spikes, host_counts, writes, src_spikes.shape[0]),
    )
