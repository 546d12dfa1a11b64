"""Rounding bounds for spiking simulations: how far two runs of the same spiking recurrence can differ.

Two engines (or an engine and Brian2) run the same updates on the same spikes, but round each
update in their own order and take exp from their own library.  Each bound counts the correctly
rounded operations of an update (Higham's γ_n, :func:`bioplast.testing.worst_case`), adds the
libraries' exp disagreement (:func:`bioplast.testing.libm_disagreement`) and follows the differences
through the recurrence: leaky variables damp them (:func:`drift`), weights add them up
(:func:`stdp_weights`).  All are worst cases (first order in u), so they hold on every machine.
"""

import numpy as np

from bioplast.dynamics.spiking.network import stdp_projection
from bioplast.testing import libm_disagreement, worst_case


def drift(dtype, ops, decay, scale, libm=0, extra=0.0):
    """How far two runs of ``x ← decay·x + f`` can drift apart: each side rounds every update with at
    most ``ops`` correctly rounded operations whose operands' magnitudes add up to ≤ ``scale``
    (γ_ops each, Higham Lemma 3.1), calls exp from another library ``libm`` times (LIBM_ULPS), and the
    inputs f may differ by ``extra``; these per-step differences δ are damped by ``decay`` < 1, so at
    any step |Δx| ≤ δ/(1 − decay)."""
    return ((2 * worst_case(dtype, ops) + libm_disagreement(dtype, libm)) * scale + extra) / (1 - decay)


def peak(spikes, w, decay):
    """The largest synaptic variable of a run: max over steps, samples, rows of Σ_k decay^k s_{t−k} |w|ᵀ."""
    x, top = 0.0, 0.0
    for s in np.asarray(spikes, dtype=np.float64):
        x = x * decay + s @ np.abs(np.atleast_2d(w)).T
        top = max(top, float(np.max(x)))
    return top


def cond_membrane(dtype, m, dt, dge, dgi, libm):
    """|Δv| of a CondLIF between two runs whose conductances differ by ≤ dge, dgi (first order).
    ``v ← T + (v − T) ρ`` with ``T = (v_rest + g_e E_e + g_i E_i)/g``, ``ρ = e^{−g dt/τ}``,
    ``g = 1 + g_e + g_i``: |∂T/∂g_x| ≤ span and |v − T| ≤ span (v stays in the hull of v_rest,
    v_reset, E_e, E_i), and ρ (dt/τ) ≤ (1 − ρ)/g (x e^{−x} ≤ 1 − e^{−x}), so
    ``Δv ← ρ Δv + (1 − ρ)·2 span (Δg_e + Δg_i) + δ`` and |Δv| ≤ 2 span (Δg_e + Δg_i) + δ/(1 − e^{−dt/τ}).
    δ: ≤ 22 operations per side (Brian2's generated B/A form 13, the exp argument 6, the update 3;
    ours 18) on operands ≤ 4 P in the units of T, P = max|potential|, and exp from another library."""
    hull = (m.v_rest, m.v_reset, m.e_exc, m.e_inh)
    span, p = max(hull) - min(hull), max(abs(x) for x in hull + (m.v_thresh,))
    return 2 * span * (dge + dgi) + drift(dtype, 22, np.exp(-dt / m.tau_mem), 4 * p, libm)


def _trace_peaks(p, pre, post):
    """Largest values of the rule's traces r₁, r₂ (pre) and o₁, o₂ (post): 1 for nearest-spike
    traces, else the peak of the filtered spike trains."""

    def one(s, tau):
        return 1.0 if p.nearest else peak(s, np.eye(s.shape[2]), np.exp(-p.dt / tau))

    return one(pre, p.tau_plus), one(pre, p.tau_x), one(post, p.tau_minus), one(post, p.tau_y)


def stdp_weights(dtype, plasticity, w0, pre, post, libm=0, clock=0.0, traces_alike=False):
    """|Δw| between two runs of the same STDP rule from the same weights with the same spikes.

    A weight changes only in steps with a pre or a post spike at its synapse (otherwise both sides
    add an exact 0), at most N times.  Each change is ``w ← clip(w + lr·(pot − dep))`` with batch
    means of trace products: ≤ B + 11 operations per side (B + 5 per pathway, 1 for the difference,
    4 for soft bounds, 1 for lr) on values ≤ U, the largest change the trace peaks allow, plus the
    rounding of the add on values ≤ W + U, W = max|w| (the clip's bound, else max|w₀| + N U); the
    clip is exact and non-expansive, and soft bounds damp (∂w'/∂w = 1 − pot − dep ∈ [0, 1]).
    The traces (``x ← x d`` then ``+ 1`` or ``= 1`` on a spike): ``traces_alike`` — the same IEEE
    operations on the same decay floats, so equal bit for bit (the fused engine flushes subnormals:
    below ``tiny``); else they drift by :func:`drift` (3 operations, ``libm`` for another library's
    decay), and ``clock`` = 3 u t_max: Brian2's event-driven traces take e^{−(t − t_last)/τ} with
    t and t_last rounded, ≤ clock/τ relative per event.  So
    |Δw| ≤ N (2γ₁ (W + U) + 2γ_{B+11} U + lr Σ |∂U/∂trace| Δtrace)."""
    fs = stdp_projection(plasticity)
    p, lr = fs.rule, fs.lr
    pre, post = np.asarray(pre, dtype=bool), np.asarray(post, dtype=bool)
    r1, r2, o1, o2 = _trace_peaks(p, pre, post)
    taus = (p.tau_plus, p.tau_x, p.tau_minus, p.tau_y)
    if traces_alike:
        dr1 = dr2 = do1 = do2 = float(np.finfo(dtype).tiny)
    else:
        dr1, dr2, do1, do2 = (
            drift(dtype, 3, np.exp(-p.dt / tau), x, libm, extra=clock / tau * x)
            for tau, x in zip(taus, (r1, r2, o1, o2), strict=True)
        )
    soft = (p.w_max - p.w_min) if p.soft else 1.0
    pot, dep = (p.a2_plus + p.a3_plus * o2) * r1, o1 * (p.a2_minus + p.a3_minus * r2)
    u = lr * (pot + dep) * soft
    du = (
        lr
        * soft
        * (
            (p.a2_plus + p.a3_plus * o2) * dr1
            + p.a3_plus * r1 * do2
            + (p.a2_minus + p.a3_minus * r2) * do1
            + p.a3_minus * o1 * dr2
        )
    )
    n = int(np.max(pre.any(1).sum(0)[None, :] + post.any(1).sum(0)[:, None]))
    big_w = max(abs(fs.lo), abs(fs.hi)) if fs.lo is not None else float(np.max(np.abs(w0))) + n * u
    return n * (2 * worst_case(dtype, 1) * (big_w + u) + 2 * worst_case(dtype, pre.shape[1] + 11) * u + du)
