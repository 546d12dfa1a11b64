"""One description of a spiking network, run by every engine and by Brian2.

A network is spike sources (inputs), populations of one neuron model each
(:mod:`bioplast.dynamics.spiking.neurons`), and projections between them; a
projection may carry a :class:`~bioplast.core.Plasticity` (an STDP-family
rule and its transforms).  :func:`lower` turns it into per-neuron parameter
arrays and a projection table that the engines share, so the numpy/torch
engine and the fused numba engine read the same numbers.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from bioplast.core import Plasticity
from bioplast.dynamics.spiking.neurons import LIF, CondLIF, from_snntorch_module, is_snntorch_neuron
from bioplast.errors import ConfigError, DataError
from bioplast.rules.stdp import TripletParams, triplet_params
from bioplast.validate import positive

CONNECTIVITY = ("dense", "one_to_one", "all_but_self")
PER_NEURON = ("v_rest", "v_reset", "v_thresh")  # the parameters a population may set neuron by neuron
SLOTS = {"v": 0, "syn": 1, "ge": 1, "gi": 2}


@dataclass(frozen=True)
class SpikeSource:
    """``size`` input neurons whose spikes are given to :func:`bioplast.dynamics.spiking.engine.simulate`."""

    name: str
    size: int


@dataclass(frozen=True)
class Population:
    """``size`` neurons of one model: :class:`LIF`, :class:`CondLIF`, or an ``snntorch.Leaky`` module
    (turned into its LIF at the network's ``dt``: :func:`~.neurons.from_snntorch_module`)."""

    name: str
    size: int
    neuron: Any  # LIF | CondLIF | snntorch.Leaky
    # field → [size] values replacing the model's scalar neuron by neuron (one of PER_NEURON): the
    # fixed-pattern mismatch of analog neurons (bioplast.hardware.physics.spiking_mismatch)
    per_neuron: dict | None = dataclasses.field(default=None, compare=False)
    # (step, top): membrane potential and synaptic current kept on the levels k·step, |k·step| ≤ top,
    # after every update (fixed-point neuron state, e.g. Xylo's 16 bits); None: exact
    state_grid: tuple | None = None

    def values(self, field: str) -> np.ndarray:
        """``field`` of every neuron, ``[size]`` float64: the per-neuron values, or the model's scalar."""
        if self.per_neuron and field in self.per_neuron:
            return np.asarray(self.per_neuron[field], dtype=np.float64)
        return np.full(self.size, float(getattr(self.neuron, field)))


@dataclass(frozen=True)
class Projection:
    """Spikes of ``pre`` increment variable ``target`` (``"v"``, ``"syn"``, ``"ge"``, ``"gi"``) of ``post``.

    ``connectivity="dense"``: ``weights`` is ``W[n_post, n_pre]``;
    ``"one_to_one"``: neuron ``i`` → neuron ``i`` with the scalar ``weights``;
    ``"all_but_self"``: neuron ``j`` → every ``i ≠ j`` with the scalar ``weights``.
    """

    pre: str
    post: str
    target: str
    weights: Any
    connectivity: str = "dense"
    plasticity: Plasticity | None = None
    # noisy reads of a dense projection's devices: every delivered spike reads its synapse as
    # w + read_noise·ξ, fresh ξ ~ N(0, 1) per read (σ_read S of the substrate; 0: exact), drawn from
    # the counter-based stream of (read_seed, step)
    read_noise: float = 0.0
    read_seed: int = 0

    @property
    def name(self) -> str:
        return f"{self.pre}->{self.post}"


class STDPProjection(NamedTuple):
    """A plastic projection as declared data: its STDP-family rule's parameters, the learning rate of
    an ``additive`` transform and optional clip bounds — what an engine or a simulator of its own
    (the fused engine, Brian2) needs to run it."""

    rule: TripletParams
    lr: float
    lo: float | None
    hi: float | None


# the transform chains an STDP projection may carry to be run by an engine of its own (by spec kind)
STDP_CHAINS: tuple[list[str], ...] = ([], ["additive"], ["clip_bounds"], ["additive", "clip_bounds"])


def stdp_projection(plasticity: Plasticity) -> STDPProjection | None:
    """``plasticity`` as data when it is an STDP-family rule followed by at most an ``additive``
    transform and then at most a ``clip_bounds`` transform (read from their spec records); else
    ``None``."""
    params = triplet_params(plasticity.rule)
    if params is None or [t.kind for t in plasticity.transforms] not in STDP_CHAINS:
        return None
    specs = {t.kind: t.spec for t in plasticity.transforms}
    clip = specs.get("clip_bounds")
    return STDPProjection(
        params,
        specs["additive"].lr if "additive" in specs else 1.0,
        None if clip is None else clip.lo,
        None if clip is None else clip.hi,
    )


class Lowered(NamedTuple):
    """Per-neuron parameters (``[N]`` float64 host arrays over all populations in
    order) and the projection table; built by :func:`lower`."""

    dt: float
    offsets: dict  # population name -> (start, size) in the neuron vector
    source_offsets: dict  # source name -> (start, size) in the input vector
    n_neurons: int
    n_inputs: int
    cond: np.ndarray  # 1: conductance-based, 0: current-based
    v_rest: np.ndarray
    v_reset: np.ndarray
    v_thresh: np.ndarray
    tau_mem: np.ndarray
    resistance: np.ndarray
    e_exc: np.ndarray
    e_inh: np.ndarray
    decay_ge: np.ndarray  # per-step decay of slot 1 (g_e, or the synaptic current)
    decay_gi: np.ndarray
    subtract: np.ndarray  # 1: reset by subtraction
    theta_plus: np.ndarray
    decay_theta: np.ndarray
    theta_init: np.ndarray
    ref_steps: np.ndarray  # int
    state_step: np.ndarray  # fixed-point state grid (0: exact)
    state_max: np.ndarray  # its largest magnitude (inf: exact)
    projections: tuple[Projection, ...]
    proj_pre: tuple[tuple[bool, int, int], ...]  # (from a source?, start, size)
    proj_post: tuple[tuple[int, int], ...]  # (start, size)
    proj_slot: tuple[int, ...]

    def neuron_parameters(self) -> tuple:
        """The per-neuron arrays every engine's neuron update reads, in one order: ``cond, v_rest,
        v_reset, v_thresh, dt/τ_m, R, E_e, E_i, decay_ge, decay_gi, subtract, θ₊, decay_θ``."""
        return (
            self.cond,
            self.v_rest,
            self.v_reset,
            self.v_thresh,
            self.dt / self.tau_mem,
            self.resistance,
            self.e_exc,
            self.e_inh,
            self.decay_ge,
            self.decay_gi,
            self.subtract,
            self.theta_plus,
            self.decay_theta,
        )


class SpikingNetwork:
    """Sources, populations and projections at time step ``dt`` (seconds); validated on construction."""

    def __init__(self, sources, populations, projections, dt: float):
        self.dt = positive("dt", dt)
        self.sources = tuple(sources)
        self.populations = tuple(
            dataclasses.replace(p, neuron=from_snntorch_module(p.neuron, self.dt))
            if is_snntorch_neuron(p.neuron)
            else p
            for p in populations
        )
        self.projections = tuple(projections)
        self._check()

    def _check(self):
        names = [s.name for s in self.sources] + [p.name for p in self.populations]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ConfigError(f"names of sources and populations must be unique, repeated: {dup}")
        if not self.populations:
            raise ConfigError("a spiking network needs at least one population")
        for s in self.sources:
            if not isinstance(s.size, (int, np.integer)) or s.size <= 0:
                raise ConfigError(f"source {s.name!r} size must be a positive integer, got {s.size!r}")
        for p in self.populations:
            if not isinstance(p.size, (int, np.integer)) or p.size <= 0:
                raise ConfigError(f"population {p.name!r} size must be a positive integer, got {p.size!r}")
            if not isinstance(p.neuron, (LIF, CondLIF)):
                raise ConfigError(
                    f"population {p.name!r} neuron must be LIF, CondLIF or snntorch.Leaky, got "
                    f"{type(p.neuron).__name__}"
                )
            p.neuron.check_dt(self.dt)
            self._check_per_neuron(p)
            self._check_state_grid(p)
        sizes = {s.name: s.size for s in self.sources} | {p.name: p.size for p in self.populations}
        pops = {p.name: p for p in self.populations}
        for pr in self.projections:
            if pr.pre not in sizes:
                raise ConfigError(f"projection {pr.name}: unknown pre {pr.pre!r}; known: {sorted(sizes)}")
            if pr.post not in pops:
                raise ConfigError(
                    f"projection {pr.name}: post must be a population, got {pr.post!r}; populations: {sorted(pops)}"
                )
            targets = pops[pr.post].neuron.targets
            if pr.target not in targets:
                raise ConfigError(
                    f"projection {pr.name}: target {pr.target!r} is not a variable of "
                    f"{type(pops[pr.post].neuron).__name__} here; expected one of {targets}"
                )
            if pr.connectivity not in CONNECTIVITY:
                raise ConfigError(
                    f"projection {pr.name}: connectivity must be one of {CONNECTIVITY}, got {pr.connectivity!r}"
                )
            n_pre, n_post = sizes[pr.pre], sizes[pr.post]
            if pr.connectivity == "dense":
                w = np.asarray(pr.weights)
                if w.shape != (n_post, n_pre):
                    raise DataError(f"projection {pr.name}: weights must have shape ({n_post}, {n_pre}), got {w.shape}")
                if not np.isfinite(w).all():
                    raise DataError(f"projection {pr.name}: weights must be finite")
            else:
                if n_pre != n_post:
                    raise ConfigError(
                        f"projection {pr.name}: {pr.connectivity} needs equal sizes, got {n_pre} -> {n_post}"
                    )
                if np.ndim(pr.weights) != 0 or not math.isfinite(float(pr.weights)):
                    raise ConfigError(
                        f"projection {pr.name}: {pr.connectivity} takes one finite scalar weight, got {pr.weights!r}"
                    )
                if pr.plasticity is not None:
                    raise ConfigError(f"projection {pr.name}: only dense projections can be plastic")
                if pr.read_noise:
                    raise ConfigError(f"projection {pr.name}: only dense projections read devices (read_noise)")
            if not (isinstance(pr.read_noise, (int, float)) and math.isfinite(pr.read_noise) and pr.read_noise >= 0):
                raise ConfigError(
                    f"projection {pr.name}: read_noise must be a finite number >= 0, got {pr.read_noise!r}"
                )
            if pr.plasticity is not None:
                rule_dt = pr.plasticity.rule.spec.params.get("dt")
                if rule_dt is not None and abs(rule_dt - self.dt) > 1e-9 * self.dt:
                    raise ConfigError(
                        f"projection {pr.name}: rule {pr.plasticity.rule.spec.name!r} was built "
                        f"for dt = {rule_dt:g} s but the network runs at dt = {self.dt:g} s"
                    )

    @staticmethod
    def _check_state_grid(p):
        if p.state_grid is None:
            return
        try:
            step, top = (float(x) for x in p.state_grid)
        except (TypeError, ValueError):
            raise ConfigError(f"population {p.name!r}: state_grid must be (step, top), got {p.state_grid!r}") from None
        if not (math.isfinite(step) and step > 0 and top >= step):
            raise ConfigError(
                f"population {p.name!r}: state_grid needs a finite step > 0 and top >= step, got {p.state_grid!r}"
            )
        if not isinstance(p.neuron, LIF):
            raise ConfigError(
                f"population {p.name!r}: a fixed-point state grid is modelled for current-based LIF "
                f"neurons (as on Xylo), not {type(p.neuron).__name__}"
            )

    @staticmethod
    def _check_per_neuron(p):
        for field, values in (p.per_neuron or {}).items():
            if field not in PER_NEURON:
                raise ConfigError(
                    f"population {p.name!r}: per_neuron sets {field!r}; only {PER_NEURON} may vary neuron by neuron"
                )
            v = np.asarray(values, dtype=np.float64)
            if v.shape != (p.size,) or np.isnan(v).any():
                raise DataError(
                    f"population {p.name!r}: per_neuron {field!r} must be {p.size} numbers "
                    f"(no NaN), got shape {v.shape}"
                )
        if p.per_neuron and np.any(p.values("v_reset") >= p.values("v_thresh")):
            bad = int(np.argmax(p.values("v_reset") >= p.values("v_thresh")))
            raise ConfigError(
                f"population {p.name!r}: neuron {bad} has v_reset {p.values('v_reset')[bad]:g} "
                f">= v_thresh {p.values('v_thresh')[bad]:g}"
            )

    def size(self, name: str) -> int:
        for x in self.sources + self.populations:
            if x.name == name:
                return x.size
        raise ConfigError(f"no source or population called {name!r}")

    def with_weights(self, weights: dict) -> SpikingNetwork:
        """A copy whose dense projections named in ``weights`` (``"pre->post"`` → array) are replaced."""
        from dataclasses import replace

        known = {p.name for p in self.projections}
        unknown = sorted(set(weights) - known)
        if unknown:
            raise ConfigError(f"unknown projections {unknown}; known: {sorted(known)}")
        projs = [replace(p, weights=weights[p.name]) if p.name in weights else p for p in self.projections]
        return SpikingNetwork(self.sources, self.populations, projs, self.dt)


def lower(net: SpikingNetwork) -> Lowered:
    """Per-neuron parameter arrays and the projection table of ``net``."""
    dt = net.dt
    offsets, start = {}, 0
    cols: dict[str, list[np.ndarray]] = {
        k: []
        for k in (
            "cond",
            "v_rest",
            "v_reset",
            "v_thresh",
            "tau_mem",
            "resistance",
            "e_exc",
            "e_inh",
            "decay_ge",
            "decay_gi",
            "subtract",
            "theta_plus",
            "decay_theta",
            "theta_init",
            "ref_steps",
            "state_step",
            "state_max",
        )
    }
    for p in net.populations:
        n, m = p.size, p.neuron
        offsets[p.name] = (start, n)
        start += n
        cond = isinstance(m, CondLIF)
        tau_ge = m.tau_ge if cond else m.tau_syn
        row = {
            "cond": float(cond),
            "v_rest": m.v_rest,
            "v_reset": m.v_reset,
            "v_thresh": m.v_thresh,
            "tau_mem": m.tau_mem,
            "resistance": 0.0 if cond else m.resistance,
            "e_exc": m.e_exc if cond else 0.0,
            "e_inh": m.e_inh if cond else 0.0,
            "decay_ge": math.exp(-dt / tau_ge) if tau_ge else 0.0,
            "decay_gi": math.exp(-dt / m.tau_gi) if cond else 0.0,
            "subtract": float(m.reset == "subtract"),
            "theta_plus": m.theta_plus,
            "decay_theta": math.exp(-dt / m.tau_theta) if m.tau_theta else 1.0,
            "theta_init": m.theta_init,
            "ref_steps": int(round(m.refractory / dt)),
            "state_step": float(p.state_grid[0]) if p.state_grid else 0.0,
            "state_max": float(p.state_grid[1]) if p.state_grid else math.inf,
        }
        for k, v in row.items():
            cols[k].append(p.values(k) if k in PER_NEURON else np.full(n, v))
    src_offsets, s0 = {}, 0
    for s in net.sources:
        src_offsets[s.name] = (s0, s.size)
        s0 += s.size
    arrays = {k: np.concatenate(v) for k, v in cols.items()}
    arrays["ref_steps"] = arrays["ref_steps"].astype(np.int64)
    proj_pre = tuple((pr.pre in src_offsets, *(src_offsets.get(pr.pre) or offsets[pr.pre])) for pr in net.projections)
    return Lowered(
        dt,
        offsets,
        src_offsets,
        start,
        s0,
        **arrays,
        projections=net.projections,
        proj_pre=proj_pre,
        proj_post=tuple(offsets[pr.post] for pr in net.projections),
        proj_slot=tuple(SLOTS[pr.target] for pr in net.projections),
    )
