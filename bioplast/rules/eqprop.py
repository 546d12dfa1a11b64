r"""Equilibrium propagation (EP): contrasts of relaxed phases, the whole family.

For the layered primitive function of :mod:`bioplast.dynamics.relaxation`,
``∂Φ/∂W_l = s_l s_{l−1}ᵀ``; with ``F(β) = ⟨s_l^β s_{l−1}^βᵀ⟩`` (the batch mean
at the fixed point nudged with strength ``β``), ``F'(0) = −∂L/∂W_l``.  The
estimators differ in how they take that derivative:

* ``one_sided`` — classic EP (Scellier & Bengio 2017, "Equilibrium
  Propagation: Bridging the Gap Between Energy-Based Models and
  Backpropagation"): ``(F(β) − F(0)) / β``, bias O(β);
* ``random_sign`` — the same with the sign of β drawn at random for every
  batch (Laborieux et al. 2021): the O(β) bias averages out over batches;
* ``symmetric`` — (Laborieux et al. 2021, "Scaling Equilibrium Propagation to
  Deep ConvNets by Drastically Reducing its Gradient Estimator Bias"):
  ``(F(β) − F(−β)) / 2β``, bias O(β²);
* ``holomorphic`` — (Laborieux & Zenke 2022, "Holomorphic Equilibrium
  Propagation Computes Exact Gradients Through Finite Size Oscillations"):
  complex states nudged with ``β_n = |β| e^{2πin/N}``, ``n = 0 … N−1``, and
  the Cauchy integral ``F'(0) = (1/2πi)∮F(β)/β² dβ`` as the discrete Fourier
  mean ``(1/N) Σ_n F(β_n)/β_n``: exact up to aliasing, O(|β|^N).  ``N = 1``
  is one-sided EP and ``N = 2`` symmetric EP.

All are the same local rule, ``ΔW = (⟨y^β x^βᵀ⟩ − ⟨y^0 x^0ᵀ⟩) / β``, on
:class:`~bioplast.core.Contrast` signals (the symmetric estimator passes the
``−β`` phase as ``free`` and ``2β`` as ``beta``); holomorphic EP gives it an
:class:`~bioplast.core.Oscillation` of complex contrasts.

**Generalized EP** (``gen_eqprop``; Scellier et al. 2018, Laborieux & Zenke
2024, "Improving equilibrium propagation without weight symmetry through
Jacobian homeostasis"): separate bottom-up ``W_l`` and top-down ``B_l``.  At
the fixed point ``s = ρ(h)`` with ``h = A s + c − β∇C``, ``D = diag ρ'(h)``:
``ds/dβ = D (A D − I)⁻¹ ∇C`` while ``−dL/dθ = (∂h/∂θ)ᵀ D (AᵀD − I)⁻¹ ∇C``.
The update ``(∂h/∂θ)ᵀ ds/dβ`` — for ``W_l``: ``⟨(ds_l/dβ) s_{l−1}^0ᵀ⟩``, for
``B_l``: ``⟨(ds_{l−1}/dβ) s_l^0ᵀ⟩``, the post-synaptic change times the free
pre-synaptic rate — is therefore exact iff ``A = Aᵀ`` and biased by the
asymmetry otherwise.  **Jacobian homeostasis** adds ``−λ ∇H`` with
``H = ½‖J − Jᵀ‖²_F`` for the Jacobian ``J`` of the vector field in rate
coordinates, ``F(s) = A s + c − ρ⁻¹(s)``; its couplings ``A`` are the whole
state dependence of ``J − Jᵀ`` here, so ``H = Σ_l ‖W_l − B_lᵀ‖²_F`` (the
diagonal cancels).  The gradient is local to each reciprocal pair
(``∂H/∂W_l = 2(W_l − B_lᵀ)``); the tests check ``H`` against autograd's
Jacobian of the vector field.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from bioplast.core import Contrast, Local, Oscillation, Rule, RuleSpec
from bioplast.dynamics.activations import HOLOMORPHIC
from bioplast.dynamics.relaxation import COSTS, EPNet, Nudge, check_dt, check_net, readout_probs, relax
from bioplast.errors import ConfigError, unknown_name
from bioplast.validate import in_range, positive, positive_int

ESTIMATORS = ("one_sided", "symmetric", "random_sign", "holomorphic")

CITATIONS = {
    "one_sided": "Scellier & Bengio (2017) Front. Comput. Neurosci. 11:24",
    "symmetric": "Laborieux et al. (2021) Front. Neurosci. 15:633674",
    "random_sign": "Laborieux et al. (2021) Front. Neurosci. 15:633674",
    "holomorphic": "Laborieux & Zenke (2022) NeurIPS 35",
    "generalized": "Laborieux & Zenke (2024) ICLR; Scellier et al. (2018) arXiv:1808.04873",
}


def _contrast_update(k, c, state, w):
    if isinstance(c, Oscillation):
        total = None
        for cn, weight in zip(c.contrasts, c.weights):
            d = _contrast_update(k, cn, state, w)[0] * weight
            total = d if total is None else total + d
        return total.real, state
    if c.nudged.pre is c.free.pre:  # one product instead of two: ⟨(y^β − y^0) xᵀ⟩, by bilinearity
        return k.outer_mean(c.nudged.post - c.free.post, c.free.pre) / c.beta, state
    return (k.outer_mean(c.nudged.post, c.nudged.pre) - k.outer_mean(c.free.post, c.free.pre)) / c.beta, state


def _params(beta, free_steps, nudge_steps, estimator, cost, dt, points) -> dict:
    return {"beta": _check_beta(beta), "free_steps": positive_int("free_steps", free_steps),
            "nudge_steps": positive_int("nudge_steps", nudge_steps), "estimator": _check_estimator(estimator),
            "cost": _check_cost(cost), "dt": check_dt(dt), "points": positive_int("points", points)}


def eqprop(beta: float = 0.1, free_steps: int = 30, nudge_steps: int = 10, estimator: str = "symmetric",
           cost: str = "mse", dt: float = 1.0, points: int = 4) -> Rule:
    r"""EP contrast rule ``ΔW = (⟨y^β x^βᵀ⟩ − ⟨y^0 x^0ᵀ⟩) / β`` on Contrast signals.

    The parameters describe the phases that produce the contrast (used by
    :func:`ep_phases` callers such as the trainer): nudging strength
    ``beta`` (finite, non-zero), ``free_steps`` and ``nudge_steps`` (> 0),
    the ``estimator`` (``one_sided``, ``symmetric``, ``random_sign``,
    ``holomorphic`` with ``points`` = N), the output ``cost`` (``mse`` or
    ``cross_entropy`` through a softmax readout) and the leak step ``dt``
    of the relaxation.  Defaults follow Laborieux et al. (2021): β = 0.1,
    30 free + 10 nudged steps.
    """
    p = _params(beta, free_steps, nudge_steps, estimator, cost, dt, points)
    return Rule(lambda k, w: (), _contrast_update, RuleSpec(
        "eqprop", "equilibrium propagation", frozenset({"pre", "post"}), "network",
        "ΔW = (⟨s_l^β s_{l−1}^βᵀ⟩ − ⟨s_l^0 s_{l−1}^0ᵀ⟩) / β", CITATIONS[p["estimator"]], p, contrast=True))


def holo_eqprop(beta: float = 0.5, free_steps: int = 30, nudge_steps: int = 10, points: int = 8,
                cost: str = "mse", dt: float = 1.0) -> Rule:
    r"""Holomorphic EP: ``ΔW = Re (1/N) Σ_n (⟨s_l^{β_n} s_{l−1}^{β_n}ᵀ⟩ − ⟨s_l^0 s_{l−1}^0ᵀ⟩) / β_n``,
    ``β_n = |β| e^{2πin/N}`` (Laborieux & Zenke 2022): exact gradients at finite ``|β|``."""
    rule = eqprop(beta, free_steps, nudge_steps, "holomorphic", cost, dt, points)
    return rule._replace(spec=_respec(rule.spec, "holo_eqprop",
                                      "ΔW = Re (1/N) Σ_n (⟨s_l^{β_n} s_{l−1}^{β_n}ᵀ⟩ − ⟨s_l^0 s_{l−1}^0ᵀ⟩)/β_n"))


def gen_eqprop(beta: float = 0.1, free_steps: int = 30, nudge_steps: int = 10, estimator: str = "symmetric",
               cost: str = "mse", dt: float = 1.0, points: int = 4, asymmetry: float = 0.0,
               homeostasis: float = 0.0) -> Rule:
    r"""Generalized EP for non-symmetric networks: ``ΔW_l = ⟨(s_l^β − s_l^{−β}) s_{l−1}^0ᵀ⟩ / 2β``
    (post-synaptic change × free pre-synaptic rate), the same for the top-down
    ``B_l``, plus Jacobian homeostasis ``−λ ∂H/∂θ``, ``H = ½‖J − Jᵀ‖²_F``.

    ``asymmetry`` ∈ [0, 1] sets the initial top-down weights
    ``B_l = (1 − a) W_lᵀ + a R_l`` (``R_l`` an independent draw of the same
    init); ``homeostasis`` is ``λ ≥ 0``.
    """
    p = _params(beta, free_steps, nudge_steps, estimator, cost, dt, points)
    p["asymmetry"] = in_range("asymmetry", asymmetry, 0.0, 1.0)
    p["homeostasis"] = positive("homeostasis", homeostasis, allow_zero=True)
    return Rule(lambda k, w: (), _contrast_update, RuleSpec(
        "gen_eqprop", "equilibrium propagation", frozenset({"pre", "post"}), "network",
        "ΔW_l = ⟨(s_l^β − s_l^{−β}) s_{l−1}^0ᵀ⟩/2β − λ ∂‖J − Jᵀ‖²/2∂W_l", CITATIONS["generalized"], p,
        contrast=True))


def _respec(spec: RuleSpec, name: str, equation: str) -> RuleSpec:
    from dataclasses import replace

    return replace(spec, name=name, equation=equation)


class EPPhases(NamedTuple):
    contrasts: list           # per layer: Contrast or Oscillation, ready for the eqprop rule
    feedback_contrasts: list  # per top-down matrix (generalized EP), else []
    readout: Local | None     # delta-rule signals of the softmax readout (cross_entropy), else None
    reports: list             # RelaxReport per phase
    free_states: list         # the free fixed point, s_1 … s_L


class EPEstimate(NamedTuple):
    weights: list   # directions ≈ −∂L/∂W_l
    biases: list    # directions ≈ −∂L/∂b_l
    feedback: list  # directions for the top-down B_l (generalized EP), else []
    readout: list   # [dW_o, db_o] (cross_entropy), else []
    reports: list


def _check_beta(beta) -> float:
    try:
        b = float(beta)
    except (TypeError, ValueError):
        raise ConfigError(f"beta must be a finite non-zero number, got {beta!r}") from None
    if not np.isfinite(b) or b == 0.0:
        raise ConfigError(f"beta must be a finite non-zero number, got {beta!r}")
    return b


def _check_estimator(estimator: str) -> str:
    if estimator not in ESTIMATORS:
        raise unknown_name("estimator", estimator, ESTIMATORS)
    return estimator


def _check_cost(cost: str) -> str:
    if cost not in COSTS:
        raise unknown_name("cost", cost, COSTS)
    return cost


def holomorphic_points(beta: float, n: int) -> list:
    """``(β_n, weight_n)`` for the points that must be relaxed: by conjugate
    symmetry (real weights and data: ``s^{β̄} = conj s^β``) only ``n ≤ N/2``,
    the complex ones counted twice (their real part is taken)."""
    r = abs(beta)
    out = [(r, 1.0 / n)]
    for i in range(1, n // 2 + 1):
        if 2 * i == n:
            out.append((-r, 1.0 / n))
        else:
            out.append((r * complex(math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)), 2.0 / n))
    return out


def ep_phases(k, net: EPNet, x, target, *, beta: float, free_steps: int, nudge_steps: int,
              activation: str = "tanh", estimator: str = "symmetric", cost: str = "mse", dt: float = 1.0,
              points: int = 4, rng=None, tol: float | None = None, free_states=None,
              read_noise=None) -> EPPhases:
    """Relax the free phase, then the nudged phase(s); return the per-layer contrasts.

    ``tol`` (optional) makes a free phase whose last-step residual exceeds it
    a :class:`~bioplast.errors.DivergenceError`: EP assumes a fixed point.
    ``rng`` (a ``numpy.random.Generator``) draws the sign of β for the
    ``random_sign`` estimator.  ``free_states`` (optional) starts the free
    phase there instead of at zero.  ``read_noise`` (optional): noisy device reads at every
    relaxation step of every phase (:func:`~bioplast.dynamics.relaxation.relax`); real phases only.
    """
    beta = _check_beta(beta)
    if read_noise is not None and estimator == "holomorphic":
        raise ConfigError("holomorphic EP needs the exact, complex-analytic relaxation; noisy device reads "
                          "break it (use a real-β estimator, or a substrate without read noise)")
    positive_int("free_steps", free_steps)
    positive_int("nudge_steps", nudge_steps)
    _check_estimator(estimator)
    _check_cost(cost)
    dt = check_dt(dt)
    positive_int("points", points)
    check_net(net, x.shape[1], target.shape[1], cost)
    start = free_states or [k.zeros((x.shape[0], w.shape[0])) for w in net.weights]
    drive = k.linear(x, net.weights[0], net.biases[0])  # the same in every phase
    free, r0 = relax(k, net, x, start, free_steps, activation, dt=dt, phase="free", tol=tol, input_drive=drive,
                     read_noise=read_noise)
    reports = [r0]

    def nudged(b, bnet=net, bx=x, bfree=free, bdrive=drive):
        s, rep = relax(k, bnet, bx, bfree, nudge_steps, activation, nudge=Nudge(b, target, cost), dt=dt,
                       phase=f"nudged(β={b:.3g})", input_drive=bdrive, read_noise=read_noise)
        reports.append(rep)
        return s

    layer_contrasts = _contrast_builder(x, free, generalized=net.feedback is not None)
    if estimator == "holomorphic":
        if activation not in HOLOMORPHIC:
            raise ConfigError(f"holomorphic EP needs a holomorphic activation, got {activation!r}; "
                              f"use one of {', '.join(HOLOMORPHIC)}")
        cnet = EPNet(*[None if p is None else (tuple if isinstance(p, tuple) else list)(k.to_complex(a) for a in p)
                       for p in net])
        cx, cfree, cdrive = k.to_complex(x), [k.to_complex(s) for s in free], k.to_complex(drive)
        complex_contrasts = _contrast_builder(cx, cfree, generalized=net.feedback is not None)
        pts = holomorphic_points(beta, points)
        per_phase = [layer_contrasts(free, nudged(b), b) if isinstance(b, float)
                     else complex_contrasts(cfree, nudged(b, cnet, cx, cfree, cdrive), b) for b, _ in pts]
        weights = tuple(w for _, w in pts)
        contrasts, fb = ([Oscillation(tuple(cs), weights) for cs in zip(*(p[i] for p in per_phase))]
                         for i in (0, 1))
    else:
        if estimator == "symmetric":
            low, high, scale = nudged(-beta), nudged(beta), 2 * beta
        else:
            if estimator == "random_sign":
                if rng is None:
                    raise ConfigError("the random_sign estimator needs rng (a numpy.random.Generator) "
                                      "to draw the sign of beta")
                beta = beta if rng.random() < 0.5 else -beta
            low, high, scale = free, nudged(beta), beta
        contrasts, fb = layer_contrasts(low, high, scale)
    readout = None
    if cost == "cross_entropy":  # the readout is outside the energy: delta rule at the free state
        err = target - readout_probs(k, net, free[-1])
        readout = Local(pre=free[-1], post=err, mod=err)
    return EPPhases(contrasts, fb, readout, reports, free)


def _contrast_builder(x, free, generalized: bool):
    """``(low states, high states, β) → (layer contrasts, top-down contrasts)``.

    Symmetric EP contrasts ``s_l s_{l−1}ᵀ`` at each phase; generalized EP
    contrasts the post-synaptic state only, against the free pre-synaptic rate.
    """
    def build(low, high, scale):
        n = len(free)
        if not generalized:
            return [Contrast(Local(x if l == 0 else low[l - 1], low[l]), Local(x if l == 0 else high[l - 1], high[l]),
                             scale) for l in range(n)], []
        ups = [Contrast(Local(x if l == 0 else free[l - 1], low[l]), Local(x if l == 0 else free[l - 1], high[l]),
                        scale) for l in range(n)]
        downs = [Contrast(Local(free[l + 1], low[l]), Local(free[l + 1], high[l]), scale) for l in range(n - 1)]
        return ups, downs
    return build


def bias_direction(k, c):
    """EP estimate for a bias (``∂h_l/∂b_l = 1``): ``(⟨s_l^β⟩ − ⟨s_l^0⟩) / β``."""
    if isinstance(c, Oscillation):
        return sum(bias_direction(k, cn) * w for cn, w in zip(c.contrasts, c.weights)).real
    return k.batch_mean(c.nudged.post - c.free.post) / c.beta


def homeostatic_directions(k, net: EPNet):
    """``(dW, dB)``: the directions ``−∂H/∂W_l = −2(W_l − B_lᵀ)`` (``None`` for the
    input layer, whose input is clamped) and ``−∂H/∂B_l = −2(B_l − W_lᵀ)`` of
    ``H = ½‖J − Jᵀ‖²_F = Σ_l ‖W_l − B_lᵀ‖²_F``; none for a symmetric network.
    Computed on the backend, with no host copy: this runs every training batch."""
    if net.feedback is None:
        return [None] * len(net.weights), []
    diffs = [w - b.T for w, b in zip(net.weights[1:], net.feedback)]
    return [None] + [d * -2.0 for d in diffs], [d.T * 2.0 for d in diffs]


def add_homeostasis(k, net: EPNet, weight_dirs: list, feedback_dirs: list, coef: float):
    """The rule's directions plus ``coef`` times the homeostatic ones (unchanged when ``coef`` is 0)."""
    if not coef:
        return weight_dirs, feedback_dirs
    hw, hb = homeostatic_directions(k, net)
    return ([d if h is None else d + h * coef for d, h in zip(weight_dirs, hw)],
            [d + h * coef for d, h in zip(feedback_dirs, hb)])


def jacobian_homeostasis(k, net: EPNet):
    """``(H, dW, dB)``: the homeostatic objective's value (a host float) and
    :func:`homeostatic_directions`.  Zero for a symmetric network."""
    dw, db = homeostatic_directions(k, net)
    h = sum(float((k.to_numpy(d).astype(np.float64) ** 2).sum()) for d in db) / 4.0
    return h, dw, db


def jacobian_asymmetry(k, net: EPNet) -> float:
    """``‖J − Jᵀ‖_F / ‖J + Jᵀ‖_F`` for the vector field's Jacobian ``J = A − D⁻¹``
    restricted to its couplings (``A``, the part weights control): 0 for a
    symmetric network, 1 for antisymmetric couplings."""
    if net.feedback is None:
        return 0.0
    anti = sym = 0.0
    for w, b in zip(net.weights[1:], net.feedback):
        w, b = k.to_numpy(w).astype(np.float64), k.to_numpy(b).astype(np.float64)
        anti += ((w - b.T) ** 2).sum()
        sym += ((w + b.T) ** 2).sum()
    return float(np.sqrt(anti / sym)) if sym > 0 else 0.0


def ep_estimate(k, net: EPNet, x, target, *, beta: float, free_steps: int, nudge_steps: int,
                activation: str = "tanh", estimator: str = "symmetric", cost: str = "mse", dt: float = 1.0,
                points: int = 4, rng=None, tol: float | None = None, homeostasis: float = 0.0) -> EPEstimate:
    """The EP gradient estimate per parameter (directions ≈ −∂L/∂θ, ``L`` the batch-mean cost)."""
    ph = ep_phases(k, net, x, target, beta=beta, free_steps=free_steps, nudge_steps=nudge_steps,
                   activation=activation, estimator=estimator, cost=cost, dt=dt, points=points, rng=rng, tol=tol)
    dws = [_contrast_update(k, c, (), w)[0] for c, w in zip(ph.contrasts, net.weights)]
    dbs = [_contrast_update(k, c, (), b)[0] for c, b in zip(ph.feedback_contrasts, net.feedback or [])]
    dws, dbs = add_homeostasis(k, net, dws, dbs, homeostasis)
    readout = []
    if ph.readout is not None:
        readout = [k.outer_mean(ph.readout.mod, ph.readout.pre), k.batch_mean(ph.readout.mod)]
    return EPEstimate(dws, [bias_direction(k, c) for c in ph.contrasts], dbs, readout, ph.reports)
