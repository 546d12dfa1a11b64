r"""Sign-diverse plasticity: some presynaptic neurons follow the rule flipped ("curl" learning).

Ninou, Kadmon & Cayco-Gajic (2025), "Curl Descent: Non-Gradient Learning
Dynamics with Sign-Diverse Plasticity".  A diagonal sign matrix ``D``
(``±1`` per *presynaptic* neuron) multiplies any rule's direction,

    ΔW = (rule's direction) · D,   e.g. for an error-driven rule ΔW = −η δ hᵀ D,

which is local (synapse ``(i, j)`` needs only its own presynaptic neuron's
sign).  With ``D = I`` the weights follow the gradient; with mixed signs the
weight dynamics gain a non-gradient (curl) component — measured by
:func:`bioplast.analysis.curl_field.curl_magnitude`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bioplast.core import Rule
from bioplast.errors import ConfigError, DataError, unknown_name
from bioplast.rules.backprop import backprop, feedback_alignment
from bioplast.validate import array, in_range


def flip_signs(n: int, fraction: float, seed=0) -> np.ndarray:
    """``±1`` signs for ``n`` neurons with ``round(fraction · n)`` of them flipped (−1), at random positions
    drawn from ``seed`` (an int or a list of ints: a named stream, e.g. ``[seed, layer]``)."""
    f = in_range("flip fraction", fraction, 0.0, 1.0)
    rng = np.random.default_rng(seed)
    signs = np.ones(n)
    signs[rng.permutation(n)[: int(round(f * n))]] = -1.0
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


def _per_layer(name, value, check):
    """A value for every layer (a scalar, or a list/tuple with one entry per layer)."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ConfigError(f"{name}: an empty list; give one value, or one per layer")
        return [check(v) for v in value]
    return check(value)


def sign_diverse(rule: Rule, fraction=0.0, signs=None, seed: int = 0) -> Rule:
    """``rule`` with its direction multiplied column-wise by ``D``: either explicit masks
    (``signs``: one ``[n_pre]`` mask for every layer, or a list with one mask per layer) or
    ``fraction`` of flipped presynaptic neurons (one value, or a list with one per layer) drawn
    from ``seed`` and the layer's index when the rule is initialised on its weights.

    Layer ``i`` (input to output) is :meth:`~bioplast.core.Rule.at_layer` ``(i)``; each layer
    draws its own mask.  The rule itself is layer 0's."""
    per_layer_masks = isinstance(signs, (list, tuple)) and len(signs) and np.ndim(signs[0]) == 1
    masks = (
        None
        if signs is None
        else (
            [check_signs(m, what=f"sign mask of layer {i}") for i, m in enumerate(signs)]
            if per_layer_masks
            else check_signs(signs)
        )
    )
    fractions = _per_layer("flip fraction", fraction, lambda f: in_range("flip fraction", f, 0.0, 1.0))

    def pick(value, i, what):
        if not isinstance(value, list):
            return value
        if i >= len(value):
            raise ConfigError(f"{what} given for {len(value)} layers, but the model has more (layer {i})")
        return value[i]

    def init_for(i):
        def init(k, w):
            n_pre = int(w.shape[1])
            if masks is not None:
                d = check_signs(pick(masks, i, "sign masks"), n_pre, f"sign mask of layer {i}")
            else:
                d = flip_signs(n_pre, pick(fractions, i, "flip fractions"), [seed, i])
            return FlipState(k.asarray(d), rule.init(k, w))

        return init

    def update(k, signals, state, w):
        direction, inner = rule.update(k, signals, state.inner, w)
        return direction * state.signs[None, :], FlipState(state.signs, inner)

    spec = rule.spec
    from dataclasses import replace

    spec = replace(
        spec,
        name=f"sign-diverse {spec.name}",
        family="sign-diverse",
        equation=f"({spec.equation}) · D,  D = diag(±1) per presynaptic neuron",
        citation=f"Ninou, Kadmon & Cayco-Gajic (2025); {spec.citation}",
        params={**spec.params, "fraction": fraction, "seed": seed},
    )

    def at(i):
        return Rule(init_for(i), update, spec, at)

    return at(0)


def curl(fraction=0.1, seed: int = 0, signs=None, feedback: str = "transpose") -> Rule:
    """Curl descent: the backprop error rule with a ``fraction`` of presynaptic neurons flipped
    (one value for every layer, or a list with one per layer; or explicit ``signs`` masks),
    ``ΔW_l = ⟨m_l h_{l−1}ᵀ⟩ D_l``; each layer draws its own ``D_l`` from ``seed``.
    ``feedback="random"``: errors travel down fixed random matrices (feedback alignment with
    flips) instead of ``W_lᵀ``."""
    from dataclasses import replace

    if feedback not in ("transpose", "random"):
        raise unknown_name("feedback", feedback, ("transpose", "random"))
    base = backprop() if feedback == "transpose" else feedback_alignment()
    rule = sign_diverse(base, fraction=fraction, signs=signs, seed=seed)
    return rule.with_spec(replace(rule.spec, name="curl", params={**rule.spec.params, "feedback": feedback}))
