r"""How non-gradient is STDP?  The expected update field of a spike-timing rule, and its curl.

Take postsynaptic neurons that fire as linear–nonlinear Poisson (escape-noise)
units without reset: in step ``t`` neuron ``i`` spikes with probability

    p_i(t) = dt · ρ(u_i(t)),   u_i(t) = Σ_l W_il s_l(t)

(instantaneous synapses), independently across steps given the presynaptic
spikes ``s``.  The all-to-all trace rules of :mod:`bioplast.rules.stdp`
(pair and triplet) are linear in each step's postsynaptic spikes, and their
postsynaptic traces read only earlier steps, so the expected weight change
given the presynaptic trains is the rule itself run with the spikes replaced
by ``p(t)`` — exact, and smooth in ``W``.  The field is its mean per step,
with ``W`` held fixed over the window (slow learning):

    F(W) = (1/T) Σ_t E[ΔW(t) | s]

and :func:`stdp_curl` measures ``ρ = ‖(J − Jᵀ)/2‖_F / ‖J‖_F`` of its
Jacobian (:func:`bioplast.analysis.curl_field.field_curl`).

Closed form (pair rule, linear ``ρ(u) = ν₀ + g u``): ``J`` is block diagonal
over postsynaptic neurons, every block the same matrix

    M_jl = (dt g / T) [A₊ Σ_{k≥0} d₊^k C_{j→l}(k) − A₋ Σ_{k≥1} d₋^k C_{l→j}(k)]

with ``C_{a→b}(k) = Σ_t s_a(t−k) s_b(t)`` (trial mean) and ``d = e^{−dt/τ}``
(:func:`pair_jacobian_block`).  Its antisymmetric part is
``Σ_{k≥1} (A₊ d₊^k + A₋ d₋^k)(C_{j→l}(k) − C_{l→j}(k))``: the STDP window
times the time-asymmetric part of the input's cross-correlations.  So STDP is
a gradient flow for time-reversal-symmetric input (a palindrome: ``ρ = 0``
exactly) and rotates the weights when the input has a temporal order (a
repeated sequence): a Hebbian rule with curl from timing alone, without any
rule-flipped neuron.  For stationary Poisson input the asymmetry is sampling
noise and ``ρ`` shrinks as the window grows.

Kempter, Gerstner & van Hemmen (1999) Phys. Rev. E 59:4498 give the
expected drift of STDP for linear Poisson neurons; the curl reading follows
Ninou, Kadmon & Cayco-Gajic (2025).
"""

from __future__ import annotations

import math

import numpy as np

from bioplast.analysis.curl_field import Curl, field_curl
from bioplast.backends import get_backend
from bioplast.core import Local
from bioplast.errors import ConfigError, DataError
from bioplast.rules.stdp import triplet_params
from bioplast.validate import positive, positive_int

RATES = ("linear", "exponential")


def _rule_params(rule):
    params = triplet_params(rule)
    if params is None:
        raise ConfigError(f"rule {rule.spec.name!r} is not an STDP-family rule (pair_stdp, triplet_stdp)")
    if params.nearest:
        raise ConfigError(
            f"rule {rule.spec.name!r} uses nearest-spike traces, which are not linear in the "
            "postsynaptic spikes: its expected update is not the rule run on firing probabilities "
            "(use traces='all_to_all')"
        )
    return params


def _raster(pre) -> np.ndarray:
    s = np.asarray(pre, dtype=np.float64)
    if s.ndim == 2:
        s = s[None]
    if s.ndim != 3 or s.shape[1] == 0 or s.shape[2] == 0:
        raise DataError(
            f"presynaptic spikes must be [trials, steps, neurons] (or [steps, neurons]), got shape {np.shape(pre)}"
        )
    if not np.isin(s, (0.0, 1.0)).all():
        raise DataError("presynaptic spikes must be 0 or 1 per step")
    return s


def expected_stdp_field(rule, pre, n_post: int, rate: str = "linear", baseline: float = 5.0, gain: float = 1.0):
    """``F(θ)`` (flat ``W[n_post, n_pre]`` → flat mean update per step) of an all-to-all STDP ``rule``
    for the presynaptic raster ``pre`` (``[trials, steps, n_pre]``, 0/1) driving LNP neurons with
    rate ``ν₀ + g u`` (``"linear"``) or ``ν₀ e^{g u}`` (``"exponential"``), ``ν₀ = baseline`` (Hz)."""

    params = _rule_params(rule)
    s = _raster(pre)
    n_post = positive_int("n_post", n_post)
    if rate not in RATES:
        raise ConfigError(f"rate must be one of {RATES}, got {rate!r}")
    baseline, gain = positive("baseline", baseline, allow_zero=True), float(gain)
    k = get_backend("numpy", dtype="float64")
    n_pre, steps = s.shape[2], s.shape[1]

    def field(theta):
        w = np.asarray(theta, dtype=np.float64).reshape(n_post, n_pre)
        u = s @ w.T  # [trials, steps, n_post]
        p = params.dt * (baseline + gain * u if rate == "linear" else baseline * np.exp(gain * u))
        if p.min() < 0 or p.max() > 1:
            raise ConfigError(
                f"firing probabilities per step span [{p.min():.3g}, {p.max():.3g}], outside [0, 1]: "
                "lower the weights, the gain or the baseline, or the step dt"
            )
        state = rule.init(k, w)
        total = np.zeros_like(w)
        for t in range(steps):
            direction, state = rule.update(k, Local(pre=s[:, t], post=p[:, t]), state, w)
            total += direction
        return (total / steps).ravel()

    return field


def stdp_curl(
    rule,
    pre,
    w,
    rate: str = "linear",
    baseline: float = 5.0,
    gain: float = 1.0,
    coords: int | None = None,
    eps: float = 1e-4,
    seed: int = 0,
) -> Curl:
    """``ρ`` of the expected update field of ``rule`` at weights ``w[n_post, n_pre]`` for the raster ``pre``."""
    w = np.asarray(w, dtype=np.float64)
    pre = _raster(pre)
    if w.ndim != 2 or w.shape[1] != pre.shape[2]:
        raise DataError(
            f"weights must be [n_post, n_pre] with n_pre = {pre.shape[2]} (the raster's neurons), got shape {w.shape}"
        )
    field = expected_stdp_field(rule, pre, w.shape[0], rate, baseline, gain)
    at = field(w.ravel())
    resolution = 4 * np.finfo(np.float64).eps * max(np.abs(at).max(), 1e-300) * w.shape[1]
    return field_curl(field, w.ravel(), coords, eps, seed, resolution)


def pair_jacobian_block(
    pre, a_plus: float, a_minus: float, tau_plus: float, tau_minus: float, dt: float, gain: float = 1.0
) -> np.ndarray:
    """The closed-form block ``M`` (``[n_pre, n_pre]``) of the pair rule's field Jacobian for linear
    LNP neurons (module docstring), from the raster's cross-correlograms."""
    s = _raster(pre)
    trials, steps, n = s.shape
    d_plus, d_minus = math.exp(-dt / tau_plus), math.exp(-dt / tau_minus)
    m = np.zeros((n, n))
    for k in range(steps):
        lead = np.einsum("rta,rtc->ac", s[:, : steps - k], s[:, k:]) / trials  # C_{a→b}(k)
        m += a_plus * d_plus**k * lead
        if k >= 1:
            m -= a_minus * d_minus**k * lead.T
    return dt * gain * m / steps


def poisson_raster(
    n: int, steps: int, rate: float = 20.0, dt: float = 1e-3, trials: int = 1, seed: int = 0
) -> np.ndarray:
    """Independent Poisson trains, ``[trials, steps, n]``: stationary, no temporal order on average."""
    rng = np.random.default_rng(seed)
    p = positive("rate", rate) * positive("dt", dt)
    if p > 1:
        raise ConfigError(f"rate × dt = {p:.3g} spikes per step exceeds 1")
    return (
        rng.random((positive_int("trials", trials), positive_int("steps", steps), positive_int("n", n))) < p
    ).astype(np.float64)


def sequence_raster(n: int, steps: int, spacing: int = 3, period: int | None = None, trials: int = 1) -> np.ndarray:
    """Neurons firing in a fixed order ``0, 1, …, n−1``, ``spacing`` steps apart, repeated every
    ``period`` steps (default ``n·spacing + 10``): input with a temporal order."""
    spacing = positive_int("spacing", spacing)
    period = n * spacing + 10 if period is None else positive_int("period", period)
    if period < n * spacing:
        raise ConfigError(f"period {period} is shorter than the sequence ({n} neurons × {spacing} steps)")
    s = np.zeros((positive_int("trials", trials), positive_int("steps", steps), positive_int("n", n)))
    for start in range(0, steps, period):
        for j in range(n):
            if start + j * spacing < steps:
                s[:, start + j * spacing, j] = 1.0
    return s


def palindrome(pre) -> np.ndarray:
    """The raster followed by its time reversal: time-reversal-symmetric input."""
    s = _raster(pre)
    return np.concatenate([s, s[:, ::-1]], axis=1)
