"""Spike encoders: rates in Hz → spike trains ``[T, B, n]`` (bool).

``poisson``: each time bin of width ``dt`` holds a spike with probability
``r·dt`` independently (Bernoulli approximation of a Poisson process,
exact in the limit ``dt → 0``; requires ``r·dt ≤ 1``).
``regular``: deterministic rate code; a neuron spikes whenever its phase
``r·t`` crosses an integer, giving ``⌊r·T·dt⌋`` spikes.
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError
from ..validate import array, positive, positive_int


def _check(rates, n_steps, dt):
    r = array("rates", rates, floating=False)
    positive_int("n_steps", n_steps)
    dt = positive("dt", dt)
    if r.size and r.min() < 0:
        raise DataError(f"rates must be >= 0 Hz, got minimum {r.min():g}")
    if r.size and r.max() * dt > 1:
        raise DataError(f"rates must be <= 1/dt = {1 / dt:g} Hz for dt = {dt:g} s, got maximum {r.max():g} Hz")
    return r.astype(np.float64), dt


def poisson(rates, n_steps: int, dt: float, seed: int) -> np.ndarray:
    """Bernoulli/Poisson spike trains with per-bin probability ``rates·dt``."""
    r, dt = _check(rates, n_steps, dt)
    rng = np.random.default_rng(seed)
    return rng.random((n_steps,) + r.shape) < r * dt


def regular(rates, n_steps: int, dt: float) -> np.ndarray:
    """Deterministic regular spike trains (integrate-and-fire on the phase ``r·t``)."""
    r, dt = _check(rates, n_steps, dt)
    phase = np.floor(np.arange(1, n_steps + 1)[(...,) + (None,) * r.ndim] * r * dt + 1e-9)
    return np.diff(phase, axis=0, prepend=0) > 0
