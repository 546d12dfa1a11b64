r"""The flat tables of a fused spiking engine (``k.fused("spiking")``): what the kernel receives.

A spiking network with STDP-family plasticity is lowered (:mod:`bioplast.dynamics.spiking.lowering`)
into these records of plain arrays, so the compiled kernel knows no network, rule or
transform — only numbers:

* :class:`NeuronTable` — per-neuron parameters ``[N]`` over all populations;
* :class:`NetState` — the dynamic state ``[B, N]``, updated in place;
* :class:`SynapseTable` — one row of :data:`PROJECTION_COLUMNS` per projection, the scalar weight of
  fixed projections, every dense matrix in one flat column-major buffer, one row of
  :data:`STDP_COLUMNS` per plastic projection and the traces of both sides in two flat buffers;
* :class:`Inputs` — source spikes ``[T, B, n_in]`` and optional external currents ``[T, B, N]``;
* :class:`ReadTable` — per projection with noisy reads, its counter-based keys for the ``T`` steps
  and its ``σ``;
* :class:`Recording` — what to record and where (spikes, membranes, the count of weight writes).

The semantics are the generic engine's (:mod:`bioplast.dynamics.spiking.engine`); the tests hold
the two equal.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# projection table columns
(IS_SRC, PRE0, NPRE, POST0, NPOST, SLOT, KIND, WOFF, PLASTIC, READ) = range(10)
PROJECTION_COLUMNS = 10
KINDS = {"dense": 0, "one_to_one": 1, "all_but_self": 2}
# STDP table columns: amplitudes, per-step trace decays, trace mode, weight dependence, learning
# rate, clip bounds, and the offsets of the projection's traces in the flat trace buffers
(A2P, A3P, A2M, A3M, DP, DX, DM, DY, NEAREST, SOFT, WMIN, WMAX, LR, HAS_CLIP, LO, HI, TPRE, TPOST) = range(18)
STDP_COLUMNS = 18


class NeuronTable(NamedTuple):
    cond: np.ndarray  # 1: conductance-based, 0: current-based
    v_rest: np.ndarray
    v_reset: np.ndarray
    v_thresh: np.ndarray
    dt_over_tau: np.ndarray
    resistance: np.ndarray
    e_exc: np.ndarray
    e_inh: np.ndarray
    decay_ge: np.ndarray
    decay_gi: np.ndarray
    subtract: np.ndarray  # 1: reset by subtraction
    theta_plus: np.ndarray
    decay_theta: np.ndarray
    ref_steps: np.ndarray  # int64
    alpha: np.ndarray  # e^{−dt/τ_m}: the leak of a neuron without input


class NetState(NamedTuple):
    v: np.ndarray
    ge: np.ndarray
    gi: np.ndarray
    theta: np.ndarray
    ref: np.ndarray  # int64 steps left
    counts: np.ndarray  # int64 spikes so far


class SynapseTable(NamedTuple):
    table: np.ndarray  # int64 [P, PROJECTION_COLUMNS]
    scalars: np.ndarray  # [P]: the weight of one-to-one and all-but-self projections
    wflat: np.ndarray  # every dense matrix, column-major, one after the other
    stdp: np.ndarray  # [S, STDP_COLUMNS]
    tr_pre: np.ndarray  # presynaptic traces r₁, r₂ of every plastic projection
    tr_post: np.ndarray  # postsynaptic traces o₁, o₂


class Inputs(NamedTuple):
    src: np.ndarray  # uint8 [T, B, n_in]
    current: np.ndarray  # [T, B, N], or [1, 1, 1] when has_current is False
    has_current: bool


class ReadTable(NamedTuple):
    k0: np.ndarray  # uint32 [R, T]
    k1: np.ndarray
    sigma: np.ndarray  # [R]


class Recording(NamedTuple):
    spikes: np.ndarray  # uint8 [T, B, N] (or [1, 1, 1])
    do_spikes: bool
    v: np.ndarray  # [T, B, N] (or [1, 1, 1])
    do_v: bool
    writes: np.ndarray  # int64 [1]: weight writes so far
