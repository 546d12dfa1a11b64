r"""Sign-diverse plasticity: some presynaptic neurons follow the rule flipped ("curl" learning).

Ninou, Kadmon & Cayco-Gajic (2025), "Curl Descent: Non-Gradient Learning
Dynamics with Sign-Diverse Plasticity".  A diagonal sign matrix ``D``
(``±1`` per *presynaptic* neuron) multiplies any rule's direction,

    ΔW = (rule's direction) · D,   e.g. for an error-driven rule ΔW = −η δ hᵀ D,

which is local (synapse ``(i, j)`` needs only its own presynaptic neuron's
sign).  With ``D = I`` the weights follow the gradient; with mixed signs the
weight dynamics gain a non-gradient (curl) component — measured by
:func:`bioplast.dynamics.student_teacher.curl_magnitude`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core import Rule, RuleSpec
from ..errors import ConfigError, DataError
from ..validate import array, in_range
from .backprop import backprop


def flip_signs(n: int, fraction: float, seed: int = 0) -> np.ndarray:
    """``±1`` signs for ``n`` neurons with ``round(fraction · n)`` of them flipped (−1), at random positions."""
    f = in_range("flip fraction", fraction, 0.0, 1.0)
    rng = np.random.default_rng(seed)
    signs = np.ones(n)
    signs[rng.permutation(n)[:int(round(f * n))]] = -1.0
    return signs


def check_signs(signs, n: int | None = None, what: str = "sign mask") -> np.ndarray:
    s = array(what, signs, ndim=1)
    if not np.isin(s, (-1, 1)).all():
        bad = sorted(set(s[~np.isin(s, (-1, 1))].tolist()))[:3]
        raise ConfigError(f"{what} must contain only +1 and −1, found {bad}")
    if n is not None and s.shape[0] != n:
        raise DataError(f"{what} has {s.shape[0]} entries for {n} presynaptic neurons")
    return s.astype(np.float64)


class FlipState(NamedTuple):
    signs: object  # backend array [n_pre]
    inner: object  # the wrapped rule's state


def sign_diverse(rule: Rule, fraction: float = 0.0, signs=None, seed: int = 0) -> Rule:
    """``rule`` with its direction multiplied column-wise by ``D``: either an explicit
    ``signs[n_pre]`` mask or a ``fraction`` of flipped presynaptic neurons drawn
    (from ``seed``) when the rule is initialised on its weights."""
    mask = None if signs is None else check_signs(signs)
    in_range("flip fraction", fraction, 0.0, 1.0)

    def init(k, w):
        n_pre = int(w.shape[1])
        d = check_signs(mask, n_pre) if mask is not None else flip_signs(n_pre, fraction, seed)
        return FlipState(k.asarray(d), rule.init(k, w))

    def update(k, signals, state, w):
        direction, inner = rule.update(k, signals, state.inner, w)
        return direction * state.signs[None, :], FlipState(state.signs, inner)

    spec = rule.spec
    from dataclasses import replace

    return Rule(init, update, replace(
        spec, name=f"sign-diverse {spec.name}", family="sign-diverse",
        equation=f"({spec.equation}) · D,  D = diag(±1) per presynaptic neuron",
        citation=f"Ninou, Kadmon & Cayco-Gajic (2025); {spec.citation}",
        params={**spec.params, "fraction": fraction, "seed": seed}))


def curl(fraction: float = 0.1, seed: int = 0) -> Rule:
    """Curl descent: the backprop error rule with a ``fraction`` of presynaptic neurons flipped in
    every layer, ``ΔW_l = ⟨m_l h_{l−1}ᵀ⟩ D_l`` (each layer draws its own ``D_l`` from ``seed``)."""
    from dataclasses import replace

    rule = sign_diverse(backprop(), fraction=fraction, seed=seed)
    return rule._replace(spec=replace(rule.spec, name="curl"))
