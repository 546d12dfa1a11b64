"""Spike encoders: rates in Hz → spike trains ``[T, B, n]`` (bool).

``poisson``: each time bin of width ``dt`` holds a spike with probability
``r·dt`` independently (Bernoulli approximation of a Poisson process,
exact in the limit ``dt → 0``; requires ``r·dt ≤ 1``).
``regular``: deterministic rate code; a neuron spikes whenever its phase
``r·t`` crosses an integer, giving ``⌊r·T·dt⌋`` spikes.
"""

from __future__ import annotations

import numpy as np

from bioplast.errors import DataError
from bioplast.resources import check_fits
from bioplast.validate import array, positive, positive_int


def _check(rates, n_steps, dt):
    r = array("rates", rates, floating=False)
    positive_int("n_steps", n_steps)
    dt = positive("dt", dt)
    if r.size and r.min() < 0:
        raise DataError(f"rates must be >= 0 Hz, got minimum {r.min():g}")
    if r.size and r.max() * dt > 1:
        raise DataError(f"rates must be <= 1/dt = {1 / dt:g} Hz for dt = {dt:g} s, got maximum {r.max():g} Hz")
    # the draws are float64 before they become spikes: 9 bytes per step and rate
    check_fits(9.0 * n_steps * max(r.size, 1), f"{n_steps} steps of spike trains for {r.size} rates")
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


def spike_trains(indices, steps, n: int, n_steps: int, batch: int = 1) -> np.ndarray:
    """Prescribed spikes → a ``[n_steps, batch, n]`` bool array (the same trains in every sample).

    ``indices[k]`` (neuron) fires at step ``steps[k]``; both must be integers in range.
    """
    positive_int("n", n)
    positive_int("n_steps", n_steps)
    positive_int("batch", batch)
    i = np.asarray(indices)
    s = np.asarray(steps)
    if i.shape != s.shape or i.ndim != 1:
        raise DataError(f"indices and steps must be 1-D of equal length, got shapes {i.shape} and {s.shape}")
    if i.size and (not np.issubdtype(i.dtype, np.integer) or not np.issubdtype(s.dtype, np.integer)):
        raise DataError(f"indices and steps must be integers, got dtypes {i.dtype} and {s.dtype}")
    if i.size and (i.min() < 0 or i.max() >= n):
        bad = i[(i < 0) | (i >= n)][0]
        raise DataError(f"spike index {bad} is out of range for {n} neurons (expected 0 <= index < {n})")
    if s.size and (s.min() < 0 or s.max() >= n_steps):
        bad = s[(s < 0) | (s >= n_steps)][0]
        raise DataError(f"spike step {bad} is out of range for {n_steps} steps (expected 0 <= step < {n_steps})")
    out = np.zeros((n_steps, batch, n), dtype=bool)
    out[s, :, i] = True
    return out
