"""Dale's principle: every presynaptic neuron is excitatory or inhibitory.

* :func:`dale` — the sign-frozen baseline for additive geometries: after the
  step, weights whose sign disagrees with their presynaptic neuron's are
  projected to zero (Euclidean projection onto the sign-constrained set).
* :func:`eg_pm` — EG± (Kivinen & Warmuth 1997): a signed weight as the
  difference of two positive ones, ``w = u − v`` (a differential pair of
  devices, G⁺ − G⁻), each moved multiplicatively:
  ``u ← u e^{ηd}``, ``v ← v e^{−ηd}``; ``w`` may cross zero, ``u, v`` never do.
* :func:`lognormal_signed` — log-normal magnitudes with per-column signs,
  the initialisation Dale-constrained EG expects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from bioplast.core import Transform, transform_factory
from bioplast.errors import ConfigError, DataError
from bioplast.validate import array, positive


def _check_signs(signs) -> np.ndarray:
    s = array("signs", signs, ndim=1)
    if not np.isin(s, (-1, 1)).all():
        bad = s[~np.isin(s, (-1, 1))][:3].tolist()
        raise ConfigError(f"signs must contain only +1 (excitatory) and −1 (inhibitory), found {bad}")
    return s.astype(np.float64)


@transform_factory("dale")
def dale(signs) -> Transform:
    """``Δw = P(w + Δw) − w`` with ``P`` zeroing weights of the wrong sign for
    presynaptic ``signs[n_pre]`` (±1).  Put it after the geometry transform."""
    s = _check_signs(signs)
    on_backend = {}

    def init(k, w):
        if tuple(w.shape)[1] != s.shape[0]:
            raise DataError(f"dale: {s.shape[0]} signs for weights with {w.shape[1]} presynaptic neurons")
        wrong = int((k.to_numpy(w) * s[None, :] < 0).sum())
        if wrong:
            raise ConfigError(
                f"dale: {wrong} initial weight(s) disagree with their presynaptic neuron's sign; "
                "initialise with those signs (e.g. lognormal_signed(..., signs))"
            )
        on_backend[id(k)] = k.asarray(s)
        return ()

    def update(k, u, state, w):
        return k.sign_project(w + u, on_backend[id(k)]) - w, state

    return Transform(init, update, "dale")


class PairState(NamedTuple):
    u: Any  # positive part (G⁺)
    v: Any  # negative part (G⁻)


@transform_factory("eg_pm")
def eg_pm(lr: float, offset: float = 1e-3) -> Transform:
    """EG±: ``u ← u e^{ηd}``, ``v ← v e^{−ηd}``, ``Δw = (u − v) − w``.

    At ``init`` the pair is ``u = max(w, 0) + c``, ``v = max(−w, 0) + c``
    with ``c = offset > 0`` (both conductances strictly positive, ``u − v = w``).
    The state assumes it alone moves ``w``: put no transform after it that
    changes the update.
    """
    eta = positive("lr", lr)
    c = positive("offset", offset)

    def init(k, w):
        xp = k.xp
        return PairState(
            xp.clip(w, 0, None) + c if xp is np else w.clamp(min=0) + c,
            xp.clip(-w, 0, None) + c if xp is np else (-w).clamp(min=0) + c,
        )

    def update(k, d, state, w):
        xp = k.xp
        u = state.u * xp.exp(d * eta)
        v = state.v * xp.exp(d * -eta)
        return (u - v) - w, PairState(u, v)

    return Transform(init, update, f"eg_pm({eta:g})")


def lognormal_signed(
    shape, signs, sigma: float = 1.0, scale: float | None = None, seed: int | Sequence[int] = 0
) -> np.ndarray:
    """``W[i, j] = signs[j] · scale · exp(σ z)``, ``z ~ N(0, 1)``: log-normal magnitudes,
    presynaptic signs.  Default ``scale = e^{−σ²/2}/√n_pre`` makes ``E|W| = 1/√n_pre``."""
    s = _check_signs(signs)
    n_post, n_pre = shape
    if s.shape[0] != n_pre:
        raise DataError(f"lognormal_signed: {s.shape[0]} signs for {n_pre} presynaptic neurons")
    sigma = positive("sigma", sigma)
    scale = np.exp(-(sigma**2) / 2) / np.sqrt(n_pre) if scale is None else positive("scale", scale)
    z = np.random.default_rng(seed).standard_normal(shape)
    return s[None, :] * scale * np.exp(sigma * z)


@transform_factory("sign_frozen")
def sign_frozen() -> Transform:
    """Sign-frozen baseline: ``Δw = P(w + Δw) − w`` where ``P`` zeroes every weight
    whose sign differs from its sign at ``init`` (per synapse, not per neuron)."""

    def init(k, w):
        return (k.xp.sign(w),)

    def update(k, u, state, w):
        new = w + u
        return new * (new * state[0] >= 0) - w, state

    return Transform(init, update, "sign_frozen")
