r"""Three-factor learning: a Hebbian/STDP eligibility trace gated by a neuromodulator.

Reward-modulated STDP (Izhikevich 2007, "Solving the distal reward problem
through linkage of STDP and dopamine signaling", Cereb. Cortex 17:2443;
Frémaux & Gerstner 2016, "Neuromodulated STDP and theory of three-factor
learning rules", Front. Neural Circuits 9:85)::

    τ_e de/dt = −e + STDP(t)          (the inner rule's per-step change, the eligibility)
    ΔW = m(t) · e(t)                   (m: reward / dopamine, the third factor)

``mod`` is the modulator of the step: global, one value per sample ``[B]``
(reward), or per postsynaptic neuron ``[B, n_post]`` (a neuron-specific third
factor, which keeps the rule local).  The eligibility is already averaged
over the batch (weights are shared), so the modulator is too.  With ``m ≡ 1`` and ``τ_e → 0``
the rule is the inner rule.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import NamedTuple

from bioplast.core import Local, Rule
from bioplast.errors import ConfigError
from bioplast.rules.stdp import pair_stdp
from bioplast.validate import positive


class EligibilityState(NamedTuple):
    eligibility: object  # [n_post, n_pre]
    inner: object


def reward_modulated(inner: Rule | None = None, tau_eligibility: float = 0.2, dt: float = 1e-3) -> Rule:
    """Gate ``inner`` (default :func:`pair_stdp`) by a global modulator through an eligibility trace."""
    inner = inner if inner is not None else pair_stdp(dt=dt)
    tau = positive("tau_eligibility", tau_eligibility)
    dt = positive("dt", dt)
    inner_dt = inner.spec.params.get("dt")
    if inner_dt is not None and abs(inner_dt - dt) > 1e-12 * dt:
        raise ConfigError(f"reward_modulated dt = {dt:g} s differs from the inner rule's dt = {inner_dt:g} s")
    keep = math.exp(-dt / tau)

    def init(k, w):
        return EligibilityState(k.zeros(tuple(w.shape)), inner.init(k, w))

    def update(k, s, state, w):
        if s.mod is None or s.mod.ndim not in (1, 2):
            got = None if s.mod is None else tuple(s.mod.shape)
            raise ConfigError(f"reward_modulated needs a modulator mod[B] or mod[B, n_post], got {got}")
        change, inner_state = inner.update(k, Local(s.pre, s.post), state.inner, w)
        e = state.eligibility * keep + change
        m = k.batch_mean(s.mod)
        gated = e * m if s.mod.ndim == 1 else k.row_scale(e, m)
        return gated, EligibilityState(e, inner_state)

    spec = inner.spec
    return Rule(
        init,
        update,
        replace(
            spec,
            name=f"reward_modulated {spec.name}",
            family="three-factor",
            reads=spec.reads | {"mod"},
            equation=f"τ_e de/dt = −e + [{spec.equation}];  ΔW = m e",
            citation=f"Izhikevich (2007) Cereb. Cortex 17:2443; Frémaux & Gerstner (2016); {spec.citation}",
            params={"tau_eligibility": tau, "dt": dt, "inner": spec.name},
        ),
    )
