"""Per-neuron parameters and the neuron mismatch of a substrate in spiking networks."""
import dataclasses

import numpy as np
import pytest

from bioplast.backends import get_backend
from bioplast.data.encoders import poisson
from bioplast.dynamics.network import Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.neurons import LIF
from bioplast.dynamics.spiking import simulate
from bioplast.errors import ConfigError, DataError
from bioplast.hardware import get_substrate, on_substrate

DT = 0.5e-3
K64 = get_backend("numpy", dtype="float64")


def _network(w=None, per_neuron=None, refractory=1e-3):
    w = np.random.default_rng(2).uniform(0, 0.6, (6, 15)) if w is None else w
    cur = LIF(tau_mem=10e-3, tau_syn=4e-3, v_thresh=1.0, v_rest=0.0, v_reset=0.0, refractory=refractory)
    return SpikingNetwork([SpikeSource("x", 15)], [Population("p", 6, cur, per_neuron)],
                          [Projection("x", "p", "syn", w)], dt=DT)


def _input(T=600):
    return {"x": poisson(np.full((1, 15), 80.0), T, DT, seed=4)}


def test_gain_mismatch_is_exactly_input_gain():
    """Dividing neuron i's threshold (and reset) distance by g_i is multiplying its inputs by g_i:
    the mismatched chip spikes exactly as the matched network with row-scaled weights, with
    membranes scaled by 1/g_i."""
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
    np.testing.assert_allclose(a.v["p"] * gain, b.v["p"], rtol=0, atol=1e-12)


def test_offset_mismatch_is_a_leak_potential_that_fires_on_its_own_in_closed_form():
    """No input: a neuron fires iff its leak potential v_rest + o D passes threshold, with period
    τ ln((v_∞ − v_reset)/(v_∞ − θ)) + refractory (closed form of the LIF)."""
    lif = LIF(tau_mem=10e-3, v_thresh=1.0, v_rest=0.0, v_reset=0.0, refractory=1e-3)
    net = SpikingNetwork([SpikeSource("x", 1)], [Population("p", 40, lif)], [], dt=DT)
    chip = on_substrate(net, get_substrate("ideal", {"offset_mismatch": 1.0}), seed=1)
    rest = chip.populations[0].per_neuron["v_rest"]
    T = 4000
    _, rec = simulate(chip, {"x": np.zeros((T, 1, 1), dtype=np.uint8)}, backend=K64, record=("spikes",))
    counts = rec.spikes["p"][:, 0].sum(0)
    fires = rest > 1.0
    assert 5 < fires.sum() < 35 and np.all(counts[~fires] == 0)
    # the membrane starts at its leak potential, above threshold: a spike in the first step; then
    # exponential Euler is exact for constant drive, so each rise from reset takes the closed-form
    # time rounded up to whole steps, after the refractory period (2 steps, the spike's included)
    period = np.ceil(10e-3 * np.log(rest[fires] / (rest[fires] - 1.0)) / DT - 1e-9) + 1
    np.testing.assert_array_equal(counts[fires], np.floor((T - 1) / period) + 1)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_every_engine_runs_the_per_neuron_parameters(backend):
    chip = on_substrate(_network(), get_substrate("ideal", {"gain_mismatch": 0.3, "offset_mismatch": 0.3}),
                        seed=2)
    ref = simulate(chip, _input(), backend="numpy", record=("spikes",))[1]
    got = simulate(chip, _input(), backend=backend, record=("spikes",))[1]
    assert ref.spikes["p"].sum() > 30
    np.testing.assert_array_equal(np.asarray(got.spikes["p"]), ref.spikes["p"])


def test_per_neuron_parameters_match_brian2():
    pytest.importorskip("brian2")
    from bioplast.reference.brian2_ref import run_brian2

    chip = on_substrate(_network(), get_substrate("ideal", {"gain_mismatch": 0.3, "offset_mismatch": 0.3}),
                        seed=2)
    x = _input(400)
    ref = run_brian2(chip, x)
    _, rec = simulate(chip, x, backend=K64, record=("spikes", "v"))
    assert ref.spikes["p"].sum() > 20
    np.testing.assert_array_equal(rec.spikes["p"][:, 0], ref.spikes["p"])
    np.testing.assert_allclose(rec.v["p"][:, 0], ref.v["p"], rtol=0, atol=1e-9)


def test_mismatch_is_fixed_per_chip_and_absent_on_a_matched_profile():
    net = _network()
    profile = get_substrate("ideal", {"gain_mismatch": 0.2})
    a, b = (on_substrate(net, profile, seed=s).populations[0].per_neuron["v_thresh"] for s in (3, 3))
    c = on_substrate(net, profile, seed=4).populations[0].per_neuron["v_thresh"]
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert on_substrate(net, get_substrate("ideal")).populations[0].per_neuron is None


def test_per_neuron_values_survive_a_nir_round_trip(tmp_path):
    pytest.importorskip("nir")
    from bioplast.hardware.nir import export_nir, import_nir

    chip = on_substrate(_network(refractory=0.0),  # NIR's LIF has no refractory period
                        get_substrate("ideal", {"gain_mismatch": 0.3, "offset_mismatch": 0.3}), seed=2)
    path = tmp_path / "chip.nir"
    export_nir(chip, path)
    back = import_nir(path)
    for f in ("v_rest", "v_reset", "v_thresh"):
        np.testing.assert_allclose(back.populations[0].values(f), chip.populations[0].values(f), rtol=1e-12)
    np.testing.assert_array_equal(simulate(back, _input(), backend=K64, record=("spikes",))[1].spikes["p"],
                                  simulate(chip, _input(), backend=K64, record=("spikes",))[1].spikes["p"])


def test_bad_per_neuron_parameters_are_refused_by_name():
    with pytest.raises(ConfigError, match="per_neuron sets 'tau_mem'; only"):
        _network(per_neuron={"tau_mem": np.ones(6)})
    with pytest.raises(DataError, match="per_neuron 'v_thresh' must be 6 numbers"):
        _network(per_neuron={"v_thresh": np.ones(5)})
    with pytest.raises(ConfigError, match="neuron 2 has v_reset 0 >= v_thresh -0.5"):
        _network(per_neuron={"v_thresh": np.array([1, 1, -0.5, 1, 1, 1.0])})
    plain = dataclasses.replace(_network().populations[0], per_neuron=None)
    np.testing.assert_array_equal(plain.values("v_thresh"), np.full(6, 1.0))  # the model's scalar, per neuron
