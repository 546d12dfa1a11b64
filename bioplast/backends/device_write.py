r"""The parameters of one fused device write (:meth:`Backend.device_write`).

A device profile's elementwise update physics — update register, up/down
gain, state-dependent step, write noise, weight grid or hard bounds — is a
chain of transforms (:func:`bioplast.hardware.chain.device_transforms`).
Run as a chain it makes one pass and one temporary per stage; a backend with
a fused kernel runs the same stages in one pass over the weights, with the
random draws taken from the counter-based stream
(:mod:`bioplast.backends.counter_rng`) so the fused and the staged writes give
the same numbers.  This record is that kernel's argument; codes are ints so
a compiled kernel can branch on them.  The equations are the stages':
:mod:`bioplast.hardware.transforms`.
"""

from __future__ import annotations

from typing import NamedTuple

BOUNDS_NONE, BOUNDS_SOFT, BOUNDS_EXPONENTIAL = 0, 1, 2
GRID_NONE, GRID_CLIP, GRID_NEAREST, GRID_STOCHASTIC = 0, 1, 2, 3


class WriteSpec(NamedTuple):
    """One fused write, stage by stage (a stage whose switch is 0 is skipped)."""

    update_lsb: float  # update register: u ← clip(round(u/lsb), ±update_top)·lsb; 0: no register
    update_top: float
    gain: int  # 1: u ← (u⁺·up + u⁻·down) [· g_ij]
    up: float
    down: float
    bounds: int  # BOUNDS_*: state-dependent step on [lo, hi]
    lo: float
    hi: float
    gamma: float  # exponential steps' γ
    write_sigma: float  # u ← u(1 + σξ); 0: no write noise
    grid: int  # GRID_*: how w + u lands in the range
    origin: float  # grid levels origin + k·step, k_min ≤ k ≤ k_max
    step: float
    k_min: float
    k_max: float
    clip_lo: float  # GRID_CLIP's range
    clip_hi: float
