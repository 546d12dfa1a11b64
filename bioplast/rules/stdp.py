r"""Spike-timing-dependent plasticity as trace-based updates, one step at a time.

Signals are the spikes of one simulation step, ``Local(pre=s_pre[B, n_pre],
post=s_post[B, n_post])`` (0/1 floats); the rule keeps exponentially decaying
traces in its state and returns the step's weight change (averaged over the
batch, weights being shared).  Within a step the presynaptic pathway runs
before the postsynaptic one, as in Brian2, so a pre and a post spike in the
same step potentiate.

Triplet rule (Pfister & Gerstner 2006, "Triplets of spikes in a model of
spike timing-dependent plasticity", J. Neurosci. 26:9673), with presynaptic
traces ``r₁ (τ₊), r₂ (τ_x)`` and postsynaptic traces ``o₁ (τ₋), o₂ (τ_y)``::

    pre spike at j:   ΔW_ij = −o₁_i (A₂⁻ + A₃⁻ r₂_j),  then r₁_j, r₂_j ← update
    post spike at i:  ΔW_ij = +r₁_j (A₂⁺ + A₃⁺ o₂_i),  then o₁_i, o₂_i ← update

(``r₂``, ``o₂`` read *before* their own spike's update: the ε of the paper).
Trace update: all-to-all ``x ← x + 1``; nearest-spike ``x ← 1``.
Pair STDP (Bi & Poo 1998; Song, Miller & Abbott 2000) is the triplet rule
with ``A₃⁺ = A₃⁻ = 0``.  Diehl & Cook (2015)'s rule is the nearest-spike
triplet rule with ``A₂⁺ = A₃⁻ = 0``.

Both pathways of one step act on the weight at the start of the step (one
combined change, one clip); an event-driven simulator such as Brian2 runs them
one after the other, which differs only when a synapse sees a pre and a post
spike in the same step and the change depends on ``w`` (soft bounds, clipping).

Weight dependence (van Rossum, Bi & Turrigiano 2000; Gütig et al. 2003):
``"additive"`` as above; ``"soft"`` scales potentiation by ``(w_max − w)`` and
depression by ``(w − w_min)``, so weights approach the bounds only
asymptotically.  Hard bounds are a substrate transform
(:func:`bioplast.hardware.clip_bounds`) applied after the rule.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from bioplast.core import Rule, RuleSpec
from bioplast.errors import ConfigError
from bioplast.validate import positive

WEIGHT_DEPENDENCE = ("additive", "soft")
TRACE_MODES = ("all_to_all", "nearest")


class TripletTraces(NamedTuple):
    r1: object  # presynaptic, τ₊   [B, n_pre]  (shape [1, n] until the first spikes arrive)
    r2: object  # presynaptic, τ_x
    o1: object  # postsynaptic, τ₋  [B, n_post]
    o2: object  # postsynaptic, τ_y


class TripletParams(NamedTuple):
    """Everything a fused engine needs to run the rule itself (read from ``spec.params``)."""

    a2_plus: float
    a3_plus: float
    a2_minus: float
    a3_minus: float
    tau_plus: float
    tau_x: float
    tau_minus: float
    tau_y: float
    dt: float
    nearest: bool
    soft: bool
    w_min: float
    w_max: float


def _batched(k, trace, spikes):
    """Traces start as ``[1, n]`` (a rule does not know the batch size before the
    first step) and take the batch shape of the spikes on first contact."""
    if trace.shape[0] == spikes.shape[0]:
        return trace
    return trace + k.zeros(tuple(spikes.shape))


def _advance(k, trace, spikes, decay, nearest):
    decayed = trace * decay
    if nearest:
        return decayed * (1 - spikes) + spikes
    return k.decay_trace(trace, spikes, decay)


def triplet_stdp(
    a2_plus: float = 5e-3,
    a3_plus: float = 6.2e-3,
    a2_minus: float = 7e-3,
    a3_minus: float = 2.3e-4,
    tau_plus: float = 16.8e-3,
    tau_x: float = 101e-3,
    tau_minus: float = 33.7e-3,
    tau_y: float = 125e-3,
    dt: float = 1e-3,
    traces: str = "all_to_all",
    weight_dependence: str = "additive",
    w_min: float = 0.0,
    w_max: float = 1.0,
    name: str = "triplet_stdp",
    citation: str = "Pfister & Gerstner (2006) J. Neurosci. 26:9673",
) -> Rule:
    """Triplet STDP; defaults are Pfister & Gerstner's all-to-all visual-cortex fit
    (Table 4), times in seconds, amplitudes as weight change per spike pairing.

    ``dt`` is the simulation step the rule is stepped with (the network checks it).
    """
    amps = {
        n: positive(n, v, allow_zero=True)
        for n, v in (("a2_plus", a2_plus), ("a3_plus", a3_plus), ("a2_minus", a2_minus), ("a3_minus", a3_minus))
    }
    taus = {
        n: positive(n, v)
        for n, v in (("tau_plus", tau_plus), ("tau_x", tau_x), ("tau_minus", tau_minus), ("tau_y", tau_y))
    }
    dt = positive("dt", dt)
    if traces not in TRACE_MODES:
        raise ConfigError(f"traces must be one of {TRACE_MODES}, got {traces!r}")
    if weight_dependence not in WEIGHT_DEPENDENCE:
        raise ConfigError(f"weight_dependence must be one of {WEIGHT_DEPENDENCE}, got {weight_dependence!r}")
    if not w_min < w_max:
        raise ConfigError(f"w_min must be < w_max, got w_min={w_min!r}, w_max={w_max!r}")
    params = TripletParams(
        **amps,
        **taus,
        dt=dt,
        nearest=traces == "nearest",
        soft=weight_dependence == "soft",
        w_min=float(w_min),
        w_max=float(w_max),
    )
    decay = {n: math.exp(-dt / t) for n, t in taus.items()}

    def init(k, w):
        pre, post = k.zeros((1, w.shape[1])), k.zeros((1, w.shape[0]))
        return TripletTraces(pre, pre, post, post)

    def update(k, s, state, w):
        p = params
        r1, r2 = _batched(k, state.r1, s.pre), _batched(k, state.r2, s.pre)
        o1, o2 = _batched(k, state.o1, s.post), _batched(k, state.o2, s.post)
        # presynaptic pathway first: depression reads the decayed postsynaptic trace
        depress = k.outer_mean(o1 * decay["tau_minus"], s.pre * (p.a2_minus + p.a3_minus * r2 * decay["tau_x"]))
        r1_now = _advance(k, r1, s.pre, decay["tau_plus"], p.nearest)
        # postsynaptic pathway sees this step's presynaptic spikes in r₁
        potentiate = k.outer_mean(s.post * (p.a2_plus + p.a3_plus * o2 * decay["tau_y"]), r1_now)
        if p.soft:
            direction = potentiate * (p.w_max - w) - depress * (w - p.w_min)
        else:
            direction = potentiate - depress
        new = TripletTraces(
            r1_now,
            _advance(k, r2, s.pre, decay["tau_x"], p.nearest),
            _advance(k, o1, s.post, decay["tau_minus"], p.nearest),
            _advance(k, o2, s.post, decay["tau_y"], p.nearest),
        )
        return direction, new

    reads = frozenset({"pre", "post", "w"} if params.soft else {"pre", "post"})
    return Rule(
        init,
        update,
        RuleSpec(
            name,
            "stdp",
            reads,
            "spiking",
            "pre: ΔW = −o₁(A₂⁻ + A₃⁻ r₂);  post: ΔW = r₁(A₂⁺ + A₃⁺ o₂);  traces τ dx/dt = −x + Σδ(t − t_spike)",
            citation,
            params._asdict(),
        ),
    )


def pair_stdp(
    a_plus: float = 0.01,
    a_minus: float = 0.0105,
    tau_plus: float = 20e-3,
    tau_minus: float = 20e-3,
    dt: float = 1e-3,
    traces: str = "all_to_all",
    weight_dependence: str = "additive",
    w_min: float = 0.0,
    w_max: float = 1.0,
) -> Rule:
    """Pair STDP ``ΔW = A₊ e^{−Δt/τ₊}`` (pre before post), ``−A₋ e^{Δt/τ₋}`` (post before pre);
    Song, Miller & Abbott (2000) Nat. Neurosci. 3:919 (slightly depression-dominated defaults)."""
    return triplet_stdp(
        a2_plus=a_plus,
        a3_plus=0.0,
        a2_minus=a_minus,
        a3_minus=0.0,
        tau_plus=tau_plus,
        tau_x=tau_plus,
        tau_minus=tau_minus,
        tau_y=tau_minus,
        dt=dt,
        traces=traces,
        weight_dependence=weight_dependence,
        w_min=w_min,
        w_max=w_max,
        name="pair_stdp",
        citation="Bi & Poo (1998) J. Neurosci. 18:10464; Song, Miller & Abbott (2000) Nat. Neurosci. 3:919",
    )


def diehl_cook_stdp(
    nu_pre: float = 1e-4,
    nu_post: float = 1e-2,
    tau_pre: float = 20e-3,
    tau_post1: float = 20e-3,
    tau_post2: float = 40e-3,
    dt: float = 0.5e-3,
    w_max: float = 1.0,
) -> Rule:
    """The nearest-spike triplet rule of Diehl & Cook (2015), Front. Comput. Neurosci. 9:99:
    pre spike ``ΔW = −ν_pre o₁``; post spike ``ΔW = ν_post r₁ o₂`` (``o₂`` before its update)."""
    return triplet_stdp(
        a2_plus=0.0,
        a3_plus=nu_post,
        a2_minus=nu_pre,
        a3_minus=0.0,
        tau_plus=tau_pre,
        tau_x=tau_pre,
        tau_minus=tau_post1,
        tau_y=tau_post2,
        dt=dt,
        traces="nearest",
        w_max=w_max,
        name="diehl_cook_stdp",
        citation="Diehl & Cook (2015) Front. Comput. Neurosci. 9:99",
    )


def triplet_params(rule: Rule) -> TripletParams | None:
    """The parameters of an STDP-family rule (engines that run the rule themselves read them), or
    ``None`` for any other rule."""
    if rule.spec.family != "stdp":
        return None
    return TripletParams(**rule.spec.params)


def stdp_from_spec(spec) -> Rule:
    """Rebuild an STDP-family rule from its :class:`~bioplast.core.RuleSpec` (name, citation, params),
    e.g. when reloading a network from a NIR sidecar (a file: every parameter is checked)."""
    params = spec.params if isinstance(spec.params, dict) else {}
    missing, unknown = set(TripletParams._fields) - set(params), set(params) - set(TripletParams._fields)
    if missing or unknown:
        raise ConfigError(
            f"STDP rule {spec.name!r}: parameters {sorted(TripletParams._fields)} expected; "
            f"missing {sorted(missing)}, unknown {sorted(unknown)}"
        )
    for name in TripletParams._fields:
        value, flag = params[name], name in ("nearest", "soft")
        if (flag and not isinstance(value, bool)) or (
            not flag and (isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value))
        ):
            raise ConfigError(
                f"STDP rule {spec.name!r}: {name} must be {'true or false' if flag else 'a number'}, got {value!r}"
            )
    p = TripletParams(**params)
    return triplet_stdp(
        p.a2_plus,
        p.a3_plus,
        p.a2_minus,
        p.a3_minus,
        p.tau_plus,
        p.tau_x,
        p.tau_minus,
        p.tau_y,
        p.dt,
        "nearest" if p.nearest else "all_to_all",
        "soft" if p.soft else "additive",
        p.w_min,
        p.w_max,
        name=spec.name,
        citation=spec.citation,
    )
