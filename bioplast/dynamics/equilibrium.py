r"""The phases of equilibrium propagation: relax free, relax nudged, hand the rule its contrasts.

:func:`ep_phases` runs the free phase and the nudged phase(s) of one batch on a layered network
(:mod:`bioplast.dynamics.relaxation`) and returns, per layer, the
:class:`~bioplast.core.Contrast` (or :class:`~bioplast.core.Oscillation`) that the EP rule
(:mod:`bioplast.rules.eqprop`) turns into an update — the estimators (one-sided, random-sign,
symmetric, holomorphic) differ only in which phases are relaxed and how they are paired.

**Jacobian homeostasis** (generalized EP; Laborieux & Zenke 2024): for separate bottom-up ``W_l``
and top-down ``B_l``, ``H = ½‖J − Jᵀ‖²_F`` for the Jacobian ``J`` of the vector field in rate
coordinates, ``F(s) = A s + c − ρ⁻¹(s)``; its couplings ``A`` are the whole state dependence of
``J − Jᵀ``, so ``H = Σ_l ‖W_l − B_lᵀ‖²_F`` (the diagonal cancels) and ``∂H/∂W_l = 2(W_l − B_lᵀ)``,
local to each reciprocal pair (tested against autograd's Jacobian of the vector field).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bioplast.core import Contrast, Local, Oscillation
from bioplast.dynamics.activations import HOLOMORPHIC
from bioplast.dynamics.relaxation import EPNet, Nudge, check_net, readout_probs, relax
from bioplast.errors import ConfigError
from bioplast.rules.eqprop import (
    bias_direction,
    check_beta,
    check_cost,
    check_dt,
    check_estimator,
    contrast_direction,
    holomorphic_points,
)
from bioplast.validate import positive_int


class EPPhases(NamedTuple):
    contrasts: list  # per layer: Contrast or Oscillation, ready for the eqprop rule
    feedback_contrasts: list  # per top-down matrix (generalized EP), else []
    readout: Local | None  # delta-rule signals of the softmax readout (cross_entropy), else None
    reports: list  # RelaxReport per phase
    free_states: list  # the free fixed point, s_1 … s_L


class EPEstimate(NamedTuple):
    weights: list  # directions ≈ −∂L/∂W_l
    biases: list  # directions ≈ −∂L/∂b_l
    feedback: list  # directions for the top-down B_l (generalized EP), else []
    readout: list  # [dW_o, db_o] (cross_entropy), else []
    reports: list


def ep_phases(
    k,
    net: EPNet,
    x,
    target,
    *,
    beta: float,
    free_steps: int,
    nudge_steps: int,
    activation: str = "tanh",
    estimator: str = "symmetric",
    cost: str = "mse",
    dt: float = 1.0,
    points: int = 4,
    rng=None,
    tol: float | None = None,
    free_states=None,
    read_noise=None,
) -> EPPhases:
    """Relax the free phase, then the nudged phase(s); return the per-layer contrasts.

    ``tol`` (optional) makes a free phase whose last-step residual exceeds it
    a :class:`~bioplast.errors.DivergenceError`: EP assumes a fixed point.
    ``rng`` (a ``numpy.random.Generator``) draws the sign of β for the
    ``random_sign`` estimator.  ``free_states`` (optional) starts the free
    phase there instead of at zero.  ``read_noise`` (optional): noisy device reads at every
    relaxation step of every phase (:func:`~bioplast.dynamics.relaxation.relax`); real phases only.
    """
    beta = check_beta(beta)
    if read_noise is not None and estimator == "holomorphic":
        raise ConfigError(
            "holomorphic EP needs the exact, complex-analytic relaxation; noisy device reads "
            "break it (use a real-β estimator, or a substrate without read noise)"
        )
    positive_int("free_steps", free_steps)
    positive_int("nudge_steps", nudge_steps)
    check_estimator(estimator)
    check_cost(cost)
    dt = check_dt(dt)
    positive_int("points", points)
    check_net(net, x.shape[1], target.shape[1], cost)
    start = free_states or [k.zeros((x.shape[0], w.shape[0])) for w in net.weights]
    drive = k.linear(x, net.weights[0], net.biases[0])  # the same in every phase
    free, r0 = relax(
        k, net, x, start, free_steps, activation, dt=dt, phase="free", tol=tol, input_drive=drive, read_noise=read_noise
    )
    reports = [r0]

    def nudged(b, bnet=net, bx=x, bfree=free, bdrive=drive):
        s, rep = relax(
            k,
            bnet,
            bx,
            bfree,
            nudge_steps,
            activation,
            nudge=Nudge(b, target, cost),
            dt=dt,
            phase=f"nudged(β={b:.3g})",
            input_drive=bdrive,
            read_noise=read_noise,
        )
        reports.append(rep)
        return s

    layer_contrasts = _contrast_builder(x, free, generalized=net.feedback is not None)
    if estimator == "holomorphic":
        if activation not in HOLOMORPHIC:
            raise ConfigError(
                f"holomorphic EP needs a holomorphic activation, got {activation!r}; "
                f"use one of {', '.join(HOLOMORPHIC)}"
            )
        cnet = EPNet._make(
            [None if p is None else (tuple if isinstance(p, tuple) else list)(k.to_complex(a) for a in p) for p in net]
        )
        cx, cfree, cdrive = k.to_complex(x), [k.to_complex(s) for s in free], k.to_complex(drive)
        complex_contrasts = _contrast_builder(cx, cfree, generalized=net.feedback is not None)
        pts = holomorphic_points(beta, points)
        per_phase = [
            layer_contrasts(free, nudged(b), b)
            if isinstance(b, float)
            else complex_contrasts(cfree, nudged(b, cnet, cx, cfree, cdrive), b)
            for b, _ in pts
        ]
        weights = tuple(w for _, w in pts)
        contrasts, fb = (
            [Oscillation(tuple(cs), weights) for cs in zip(*(p[i] for p in per_phase), strict=True)] for i in (0, 1)
        )
    else:
        if estimator == "symmetric":
            low, high, scale = nudged(-beta), nudged(beta), 2 * beta
        else:
            if estimator == "random_sign":
                if rng is None:
                    raise ConfigError(
                        "the random_sign estimator needs rng (a numpy.random.Generator) to draw the sign of beta"
                    )
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
            return [
                Contrast(
                    Local(x if l == 0 else low[l - 1], low[l]), Local(x if l == 0 else high[l - 1], high[l]), scale
                )
                for l in range(n)
            ], []
        ups = [
            Contrast(Local(x if l == 0 else free[l - 1], low[l]), Local(x if l == 0 else free[l - 1], high[l]), scale)
            for l in range(n)
        ]
        downs = [Contrast(Local(free[l + 1], low[l]), Local(free[l + 1], high[l]), scale) for l in range(n - 1)]
        return ups, downs

    return build


def homeostatic_directions(k, net: EPNet):
    """``(dW, dB)``: the directions ``−∂H/∂W_l = −2(W_l − B_lᵀ)`` (``None`` for the
    input layer, whose input is clamped) and ``−∂H/∂B_l = −2(B_l − W_lᵀ)`` of
    ``H = ½‖J − Jᵀ‖²_F = Σ_l ‖W_l − B_lᵀ‖²_F``; none for a symmetric network.
    Computed on the backend, with no host copy: this runs every training batch."""
    if net.feedback is None:
        return [None] * len(net.weights), []
    diffs = [w - b.T for w, b in zip(net.weights[1:], net.feedback, strict=True)]
    return [None] + [d * -2.0 for d in diffs], [d.T * 2.0 for d in diffs]


def add_homeostasis(k, net: EPNet, weight_dirs: list, feedback_dirs: list, coef: float):
    """The rule's directions plus ``coef`` times the homeostatic ones (unchanged when ``coef`` is 0)."""
    if not coef:
        return weight_dirs, feedback_dirs
    hw, hb = homeostatic_directions(k, net)
    return (
        [d if h is None else d + h * coef for d, h in zip(weight_dirs, hw, strict=True)],
        [d + h * coef for d, h in zip(feedback_dirs, hb, strict=True)],
    )


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
    for w, b in zip(net.weights[1:], net.feedback, strict=True):
        w, b = k.to_numpy(w).astype(np.float64), k.to_numpy(b).astype(np.float64)
        anti += ((w - b.T) ** 2).sum()
        sym += ((w + b.T) ** 2).sum()
    return float(np.sqrt(anti / sym)) if sym > 0 else 0.0


def ep_estimate(
    k,
    net: EPNet,
    x,
    target,
    *,
    beta: float,
    free_steps: int,
    nudge_steps: int,
    activation: str = "tanh",
    estimator: str = "symmetric",
    cost: str = "mse",
    dt: float = 1.0,
    points: int = 4,
    rng=None,
    tol: float | None = None,
    homeostasis: float = 0.0,
    rule=None,
) -> EPEstimate:
    """The EP gradient estimate per parameter (directions ≈ −∂L/∂θ, ``L`` the batch-mean cost);
    ``rule`` (a contrast :class:`~bioplast.core.Rule`) gives the weights' directions from its own
    update instead of EP's contrast (biases, feedback and readout keep EP's)."""
    ph = ep_phases(
        k,
        net,
        x,
        target,
        beta=beta,
        free_steps=free_steps,
        nudge_steps=nudge_steps,
        activation=activation,
        estimator=estimator,
        cost=cost,
        dt=dt,
        points=points,
        rng=rng,
        tol=tol,
    )
    if rule is None:
        dws = [contrast_direction(k, c, (), w)[0] for c, w in zip(ph.contrasts, net.weights, strict=True)]
    else:
        dws = [rule.update(k, c, rule.init(k, w), w)[0] for c, w in zip(ph.contrasts, net.weights, strict=True)]
    dbs = [contrast_direction(k, c, (), b)[0] for c, b in zip(ph.feedback_contrasts, net.feedback or [], strict=True)]
    dws, dbs = add_homeostasis(k, net, dws, dbs, homeostasis)
    readout = []
    if ph.readout is not None:
        readout = [k.outer_mean(ph.readout.mod, ph.readout.pre), k.batch_mean(ph.readout.mod)]
    return EPEstimate(dws, [bias_direction(k, c) for c in ph.contrasts], dbs, readout, ph.reports)
