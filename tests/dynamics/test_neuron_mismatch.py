"""Per-neuron parameters and the neuron mismatch of a substrate in spiking networks."""

import dataclasses
import math

import numpy as np
import pytest

from bioplast.backends import get_backend
from bioplast.data.encoders import poisson
from bioplast.deploy import on_substrate
from bioplast.dynamics.spiking.engine import simulate
from bioplast.dynamics.spiking.network import Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.spiking.neurons import LIF
from bioplast.errors import ConfigError, DataError
from bioplast.hardware import get_substrate
from bioplast.testing import LIBM_ULPS, eps, worst_case
from bioplast.testing.spiking import drift, peak

DT = 0.5e-3
K64 = get_backend("numpy", dtype="float64")
TAU_MEM, TAU_SYN = 10e-3, 4e-3


def _membrane_bound(x, w, potentials, libm):
    """Bound on the membranes' difference between two float64 runs of this network's current LIF
    (R = 1; spikes identical, so both reset alike), with :func:`bioplast.testing.spiking.drift`:
    ``syn ← syn ρ_s + Σ_j w_ij x_j`` takes n_in + 2 operations (n_in − 1 adds, a product, an add;
    one more where a weight was itself rounded) on non-negative values ≤ S, the peak current;
    ``v ← target + (v − target) ρ_m`` with ``target = v_rest + R syn`` takes 7 (R·syn, +v_rest, /g,
    −, ×, +, and −dt/τ in exp) on operands |target| ≤ P + S, |v − target| ≤ 2(P + S), P = max|potential|.
    Since ``Δv ← ρ_m Δv + (1 − ρ_m) R Δsyn + δ_v``, |Δv| ≤ R·max|Δsyn| + δ_v/(1 − ρ_m)."""
    rho_s, rho_m = np.exp(-DT / TAU_SYN), np.exp(-DT / TAU_MEM)
    top = peak(x, w, rho_s)
    return drift("float64", w.shape[1] + 2, rho_s, top, libm) + drift("float64", 7, rho_m, 4 * (potentials + top), libm)


def _network(w=None, per_neuron=None, refractory=1e-3):
    w = np.random.default_rng(2).uniform(0, 0.6, (6, 15)) if w is None else w
    cur = LIF(tau_mem=TAU_MEM, tau_syn=TAU_SYN, v_thresh=1.0, v_rest=0.0, v_reset=0.0, refractory=refractory)
    return SpikingNetwork(
        [SpikeSource("x", 15)], [Population("p", 6, cur, per_neuron)], [Projection("x", "p", "syn", w)], dt=DT
    )


def _input(T=600):
    return {"x": poisson(np.full((1, 15), 80.0), T, DT, seed=4)}


def test_gain_mismatch_is_exactly_input_gain():
    """Dividing neuron i's threshold (and reset) distance by g_i is multiplying its inputs by g_i:
    the mismatched chip spikes exactly as the matched network with row-scaled weights, with
    membranes scaled by 1/g_i.  The two runs differ by rounding only (the rows w·g_i rounded, then
    every update rounded on other values; the same numpy exp of the same argument on both sides):
    :func:`_membrane_bound`, plus the one rounding of the product v·g_i."""
    net = _network()
    chip = on_substrate(net, get_substrate("ideal", {"gain_mismatch": 0.3}), seed=5)
    thresh = chip.populations[0].per_neuron["v_thresh"]
    gain = 1.0 / thresh  # D = 1, v_rest = 0
    assert np.std(gain) > 0.1 and np.all(chip.populations[0].per_neuron["v_rest"] == 0)
    scaled = _network(w=np.asarray(net.projections[0].weights) * gain[:, None])
    _, a = simulate(chip, _input(), backend=K64, record=("spikes", "v"))
    _, b = simulate(scaled, _input(), backend=K64, record=("spikes", "v"))
    assert b.spikes["p"].sum() > 30
    np.testing.assert_array_equal(a.spikes["p"], b.spikes["p"])
    w_b = np.asarray(scaled.projections[0].weights)
    bound = _membrane_bound(_input()["x"], w_b, 0.0, libm=0) + worst_case("float64", 1) * np.abs(b.v["p"])
    assert np.all(np.abs(a.v["p"] * gain - b.v["p"]) <= bound)


def test_offset_mismatch_is_a_leak_potential_that_fires_on_its_own_in_closed_form():
    """No input: a neuron fires iff its leak potential v_rest + o D passes threshold, with period
    τ ln((v_∞ − v_reset)/(v_∞ − θ)) + refractory (closed form of the LIF)."""
    lif = LIF(tau_mem=10e-3, v_thresh=1.0, v_rest=0.0, v_reset=0.0, refractory=1e-3)
    n = 200
    net = SpikingNetwork([SpikeSource("x", 1)], [Population("p", n, lif)], [], dt=DT)
    chip = on_substrate(net, get_substrate("ideal", {"offset_mismatch": 1.0}), seed=1)
    rest = chip.populations[0].per_neuron["v_rest"]
    T = 4000
    _, rec = simulate(chip, {"x": np.zeros((T, 1, 1), dtype=np.uint8)}, backend=K64, record=("spikes",))
    counts = rec.spikes["p"][:, 0].sum(0)
    fires = rest > 1.0
    # offsets o ~ N(0, 1): a neuron fires on its own with probability P(o > 1) = 0.159; its count in
    # n neurons is binomial, within 4 standard deviations of n·0.159 (and neither none nor all)
    p = 0.5 * math.erfc(1 / math.sqrt(2))
    assert abs(fires.sum() - n * p) < 4 * math.sqrt(n * p * (1 - p)) and np.all(counts[~fires] == 0)
    # the membrane starts at its leak potential, above threshold: a spike in the first step; then
    # exponential Euler is exact for constant drive, so each rise from reset takes the closed-form
    # time rounded up to whole steps, after the refractory period (2 steps, the spike's included).
    # Rounding: the engine's v ← v∞ + (v − v∞)ρ (3 operations, ρ within LIBM_ULPS, errors damped by ρ)
    # stays within δ = (3γ₃ + LIBM_ULPS ε)·v∞/(1 − ρ) of the exact one and crosses θ with slope
    # ≥ (v∞ − 1)(1 − ρ) per step, so its step is the closed form's unless that lies within δ/slope
    # (plus the closed form's own ≤ 4 roundings and log) of a whole step
    v_inf, rho = rest[fires], np.exp(-DT / TAU_MEM)
    rise = TAU_MEM * np.log(v_inf / (v_inf - 1.0)) / DT
    unit = worst_case("float64", 3) * 3 + LIBM_ULPS * eps("float64")
    band = unit * v_inf / (1 - rho) / ((v_inf - 1) * (1 - rho)) + (worst_case("float64", 4) + unit) * rise
    assert np.all(np.abs(rise - np.round(rise)) > band)
    period = np.ceil(rise) + 1
    np.testing.assert_array_equal(counts[fires], np.floor((T - 1) / period) + 1)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_every_engine_runs_the_per_neuron_parameters(backend):
    chip = on_substrate(_network(), get_substrate("ideal", {"gain_mismatch": 0.3, "offset_mismatch": 0.3}), seed=2)
    ref = simulate(chip, _input(), backend="numpy", record=("spikes",))[1]
    got = simulate(chip, _input(), backend=backend, record=("spikes",))[1]
    assert ref.spikes["p"].sum() > 30
    np.testing.assert_array_equal(np.asarray(got.spikes["p"]), ref.spikes["p"])


def test_per_neuron_parameters_match_brian2():
    pytest.importorskip("brian2")
    from bioplast.reference.brian2_ref import run_brian2

    chip = on_substrate(_network(), get_substrate("ideal", {"gain_mismatch": 0.3, "offset_mismatch": 0.3}), seed=2)
    x = _input(400)
    ref = run_brian2(chip, x)
    _, rec = simulate(chip, x, backend=K64, record=("spikes", "v"))
    assert ref.spikes["p"].sum() > 20
    np.testing.assert_array_equal(rec.spikes["p"][:, 0], ref.spikes["p"])
    # the same exponential-Euler updates rounded in another order (Brian2's generated code: B/A and
    # exp(−dt/τ) each step, synaptic jumps added one by one), exp from Brian2's call, not ours
    potentials = max(float(np.max(np.abs(chip.populations[0].values(f)))) for f in ("v_rest", "v_reset", "v_thresh"))
    bound = _membrane_bound(x["x"], np.asarray(chip.projections[0].weights), potentials, libm=1)
    assert np.abs(rec.v["p"][:, 0] - ref.v["p"]).max() <= bound


def test_mismatch_is_fixed_per_chip_and_absent_on_a_matched_profile():
    net = _network()
    profile = get_substrate("ideal", {"gain_mismatch": 0.2})
    a, b = (on_substrate(net, profile, seed=s).populations[0].per_neuron["v_thresh"] for s in (3, 3))
    c = on_substrate(net, profile, seed=4).populations[0].per_neuron["v_thresh"]
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert on_substrate(net, get_substrate("ideal")).populations[0].per_neuron is None


def test_per_neuron_values_survive_a_nir_round_trip(tmp_path):
    pytest.importorskip("nir")
    from bioplast.deploy.nir import export_nir, import_nir

    chip = on_substrate(
        _network(refractory=0.0),  # NIR's LIF has no refractory period
        get_substrate("ideal", {"gain_mismatch": 0.3, "offset_mismatch": 0.3}),
        seed=2,
    )
    path = tmp_path / "chip.nir"
    export_nir(chip, path)
    back = import_nir(path)
    for f in ("v_rest", "v_reset", "v_thresh"):  # float64 arrays in the file, unchanged: exact
        np.testing.assert_array_equal(back.populations[0].values(f), chip.populations[0].values(f))
    np.testing.assert_array_equal(
        simulate(back, _input(), backend=K64, record=("spikes",))[1].spikes["p"],
        simulate(chip, _input(), backend=K64, record=("spikes",))[1].spikes["p"],
    )


def test_bad_per_neuron_parameters_are_refused_by_name():
    with pytest.raises(ConfigError, match="per_neuron sets 'tau_mem'; only"):
        _network(per_neuron={"tau_mem": np.ones(6)})
    with pytest.raises(DataError, match="per_neuron 'v_thresh' must be 6 numbers"):
        _network(per_neuron={"v_thresh": np.ones(5)})
    with pytest.raises(ConfigError, match="neuron 2 has v_reset 0 >= v_thresh -0.5"):
        _network(per_neuron={"v_thresh": np.array([1, 1, -0.5, 1, 1, 1.0])})
    plain = dataclasses.replace(_network().populations[0], per_neuron=None)
    np.testing.assert_array_equal(plain.values("v_thresh"), np.full(6, 1.0))  # the model's scalar, per neuron
