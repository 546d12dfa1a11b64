r"""More device physics: update arithmetic, learning epochs, differential pairs, stuck devices, drift.

Each is a :class:`~bioplast.core.Transform` (or, for drift, a function of
time) that :func:`bioplast.hardware.chain.device_transforms` puts into a
profile's chain; all are off in a default :class:`DeviceProfile`.

* **Update precision** (``update_bits``): the update is computed in a
  ``B``-bit fixed-point register with ``2^(B − bits)`` levels per weight
  step, ``u ← clip(round(u/a), ±(2^(B−1) − 1))·a``, ``a = step/2^(B − bits)``:
  updates under ``a/2`` are lost, large ones saturate.  (Loihi computes
  learning in a wider register than the 8-bit weights and rounds
  stochastically onto them: Davies et al. 2018, IEEE Micro 38:82.)
* **Learning epoch** (``learning_epoch = k``): updates accumulate and are
  written every ``k`` steps, as Loihi applies its learning rules once per
  learning epoch of several time steps (Davies et al. 2018).
* **Differential pair** (``differential``): ``w = G⁺ − G⁻`` with both
  conductances in ``[0, w_max]``; potentiation programs ``G⁺`` and depression
  ``G⁻`` with SET pulses only (each with its own soft bound when
  ``bounds = "soft"``), and a pair whose larger device passes
  ``REFRESH · w_max`` is re-programmed to ``(max(w, 0), max(−w, 0))`` — the
  scheme of Burr et al. 2015 (IEEE Trans. Electron Devices 62:3498) and
  Nandakumar et al. 2020 (Front. Neurosci. 14:406).
* **Stuck devices** (``stuck``): a fraction of devices is stuck at a random
  level of the range from the first write on (fabrication faults).
* **Drift** (``drift_nu``): phase-change conductance decays as a power law
  after programming, ``G(t) = G(t₀)·(t/t₀)^(−ν)``, with ``ν ~ N(ν̄, σ_ν²)``
  per device (Boniardi et al. 2010; Joshi et al. 2020, Nat. Commun.
  11:2473).  Training writes far more often than ``t₀``, so drift acts on
  a trained network over its deployment: :func:`age`.
* **Neuron mismatch** (``gain_mismatch``, ``offset_mismatch``): analog
  neurons of one chip differ by fixed pattern: neuron ``i`` computes
  ``φ(g_i a_i + o_i)`` with ``g_i ~ N(1, σ_g²)`` (≥ 0) and ``o_i ~ N(0,
  σ_o²)`` drawn once per chip, which is the network with effective
  parameters ``g ⊙ W``, ``g ⊙ b + o`` (:func:`mismatched`).  (Fixed-pattern
  noise of analog neurons, e.g. BrainScaleS: Schmitt et al. 2017 IJCNN;
  Cramer et al. 2022 PNAS, whose in-the-loop training computes the backward
  pass from the chip's measured activity — as the trainer does here, where
  rules see the mismatched activity and update the weights on the devices.)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bioplast.core import Transform, stateless, transform_factory
from bioplast.errors import ConfigError
from bioplast.validate import positive

REFRESH = 0.9  # a differential pair is re-programmed once either device passes 90 % of its range


@transform_factory("update_precision")
def update_precision(update_bits: int, lsb: float) -> Transform:
    """Round updates onto a ``update_bits``-bit fixed-point register with least significant bit ``lsb``."""
    top = float(2 ** (update_bits - 1) - 1)
    return stateless(
        f"update_precision({update_bits} bits, lsb {lsb:.3g})", lambda k, u, w: k.to_grid(u / lsb, 1.0, -top, top) * lsb
    )


class EpochState(NamedTuple):
    pending: object  # updates accumulated since the last write [n_post, n_pre]
    step: int


@transform_factory("learning_epoch")
def learning_epoch(k_steps: int) -> Transform:
    """Accumulate updates and write their sum every ``k_steps`` steps (zeros in between)."""
    if not isinstance(k_steps, int) or k_steps < 1:
        raise ConfigError(f"learning_epoch must be a positive integer number of steps, got {k_steps!r}")

    def init(k, w):
        return EpochState(k.zeros(tuple(w.shape)), 0)

    def update(k, u, state, w):
        pending, step = state.pending + u, state.step + 1
        if step % k_steps:
            return u * 0, EpochState(pending, step)
        return pending, EpochState(pending * 0, step)

    return Transform(init, update, f"learning_epoch({k_steps})")


class PairState(NamedTuple):
    g_plus: object
    g_minus: object


@transform_factory("differential_pair")
def differential_pair(g_max: float, soft: bool = True) -> Transform:
    """``w = G⁺ − G⁻``, ``G± ∈ [0, g_max]``, SET-only programming with per-device soft bounds
    (``soft``) or hard clipping, and refresh at ``REFRESH · g_max`` (module docstring)."""
    g_max = positive("differential pair g_max", g_max)

    def split(k, w):
        return PairState(k.clip(w, 0.0, g_max), k.clip(-w, 0.0, g_max))

    def potentiate(k, g, step):
        grown = g + (step * (g_max - g) / g_max if soft else step)
        return k.clip(grown, 0.0, g_max)

    def update(k, u, state, w):
        g_plus = potentiate(k, state.g_plus, u * (u > 0))
        g_minus = potentiate(k, state.g_minus, -u * (u < 0))
        new_w = g_plus - g_minus
        worn = (g_plus > REFRESH * g_max) | (g_minus > REFRESH * g_max)
        fresh = split(k, new_w)
        g_plus = k.xp.where(worn, fresh.g_plus, g_plus)
        g_minus = k.xp.where(worn, fresh.g_minus, g_minus)
        return (g_plus - g_minus) - w, PairState(g_plus, g_minus)

    return Transform(split, update, f"differential_pair(g_max={g_max:g}, {'soft' if soft else 'hard'})")


def stuck_values(shape, fraction: float, lo: float, hi: float, seed: int, levels=None):
    """``(mask, values)`` of the stuck devices of an array: each device is stuck with probability
    ``fraction``, at a uniform value of ``[lo, hi]`` (or a uniform choice of ``levels``)."""
    rng = np.random.default_rng([int(seed), 23])
    mask = rng.random(shape) < fraction
    values = rng.choice(levels, size=shape) if levels is not None else rng.uniform(lo, hi, size=shape)
    return mask, np.where(mask, values, 0.0)


@transform_factory("stuck_devices")
def stuck_devices(fraction: float, lo: float, hi: float, seed: int = 0, levels=None) -> Transform:
    """Devices stuck at their :func:`stuck_values` from the first write on: their update is
    whatever puts them there, every step."""

    def init(k, w):
        mask, values = stuck_values(tuple(w.shape), fraction, lo, hi, seed, levels)
        return (k.asarray(mask * 1.0), k.asarray(values))

    def update(k, u, state, w):
        mask, values = state
        return u * (1 - mask) + (values - w) * mask, state

    return Transform(init, update, f"stuck_devices({fraction:g})")


def age(k, profile, w, seconds: float, seed: int = 0):
    """The weights ``seconds`` after programming: ``w · (t/t₀)^(−ν)``, ``ν ~ N(ν̄, σ_ν²)`` (≥ 0) drawn
    once per device from ``seed``; unchanged for ``t ≤ t₀`` or a profile without drift."""
    seconds = positive("seconds after programming", seconds)
    if profile.drift_nu == 0 and profile.drift_nu_std == 0 or seconds <= profile.drift_t0:
        return w
    nu = np.random.default_rng([int(seed), 29]).normal(profile.drift_nu, profile.drift_nu_std, tuple(w.shape))
    return w * k.asarray((seconds / profile.drift_t0) ** -np.maximum(nu, 0.0))


def neuron_mismatch(profile, sizes, seed: int = 0) -> list | None:
    """Each layer's fixed-pattern ``(gain[n], offset[n])`` (host arrays) for layer widths ``sizes``
    (the neurons of every layer, input excluded), drawn from ``seed``; ``None`` for a profile whose
    neurons match."""
    if profile.gain_mismatch == 0 and profile.offset_mismatch == 0:
        return None
    out = []
    for layer, n in enumerate(sizes):
        rng = np.random.default_rng([int(seed), 31, layer])
        gain = np.maximum(1.0 + profile.gain_mismatch * rng.standard_normal(n), 0.0)
        out.append((gain, profile.offset_mismatch * rng.standard_normal(n)))
    return out


def mismatched(k, params, mismatch):
    """The MLP a chip with neuron ``mismatch`` (:func:`neuron_mismatch`) computes with ``params``:
    weights ``g ⊙ W`` (row ``i`` scaled by its neuron's gain), biases ``g ⊙ b + o``."""
    if mismatch is None:
        return params
    return type(params)(
        [w * k.asarray(g[:, None]) for w, (g, _) in zip(params.weights, mismatch, strict=True)],
        [b * k.asarray(g) + k.asarray(o) for b, (g, o) in zip(params.biases, mismatch, strict=True)],
    )


MIN_GAIN = 1e-3  # a spiking neuron's gain floor: its threshold distance grows at most 1000-fold


def spiking_mismatch(profile, population, seed: int = 0, index: int = 0) -> dict | None:
    """The per-neuron ``v_rest``, ``v_reset``, ``v_thresh`` of ``population`` on a chip with neuron
    mismatch (``None`` for a profile whose neurons match): the spiking form of :func:`neuron_mismatch`.

    With ``D = v_thresh − v_rest`` and the same draws ``g_i ~ N(1, σ_g²)`` (floored at
    :data:`MIN_GAIN`), ``o_i ~ N(0, σ_o²)`` as a rate layer (stream ``(seed, 31, index)``)::

        v_thresh_i = v_rest + D / g_i,   v_reset_i = v_rest + (v_reset − v_rest) / g_i,
        v_rest_i   = v_rest + o_i D

    Gain: for a current-based LIF the membrane equation is linear in ``v − v_rest``, so dividing the
    threshold and reset distances by ``g_i`` is exactly multiplying every input of neuron ``i`` by
    ``g_i`` (tested against row-scaled weights).  Offset: a shifted leak potential, i.e. a constant
    drive of ``o_i`` thresholds; ``o_i > 1`` fires without input.  (BrainScaleS calibrates exactly
    these per neuron — leak potential, threshold, reset: Schmitt et al. 2017 IJCNN; Billaudelle et
    al. 2020 ISCAS.)  The population's own per-neuron values, if any, are the base.
    """
    if profile.gain_mismatch == 0 and profile.offset_mismatch == 0:
        return None
    rng = np.random.default_rng([int(seed), 31, int(index)])
    n = population.size
    gain = np.maximum(1.0 + profile.gain_mismatch * rng.standard_normal(n), MIN_GAIN)
    offset = profile.offset_mismatch * rng.standard_normal(n)
    rest, reset, thresh = (population.values(f) for f in ("v_rest", "v_reset", "v_thresh"))
    distance = thresh - rest
    return {
        "v_rest": rest + offset * distance,
        "v_reset": rest + (reset - rest) / gain,
        "v_thresh": rest + distance / gain,
    }
