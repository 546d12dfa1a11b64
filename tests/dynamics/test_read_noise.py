"""Noisy device reads in spiking networks: every delivered spike reads its synapse as w + σξ."""
import numpy as np
import pytest

from bioplast.backends import get_backend
from bioplast.dynamics.network import Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.neurons import LIF
from bioplast.dynamics.spiking import simulate
from bioplast.errors import ConfigError
from bioplast.hardware import get_substrate, on_substrate

DT = 1e-3
SIGMA = 0.05


def _network(read_noise=SIGMA, seed=3):
    # an integrator that never fires: after one step its membrane is the step's synaptic input
    w = np.random.default_rng(0).uniform(-0.5, 0.5, (6, 50))
    lif = LIF(tau_mem=1e3, v_thresh=1e9)
    return SpikingNetwork([SpikeSource("x", 50)], [Population("p", 6, lif)],
                          [Projection("x", "p", "v", w, read_noise=read_noise, read_seed=seed)], dt=DT), w


def _one_step(B=4000):
    x = np.zeros((1, B, 50), dtype=np.uint8)
    x[0, :, :10] = 1  # ten inputs spike in every sample
    x[0, :B // 4] = 0  # and none in a quarter of them
    return x


def test_the_read_error_of_n_spikes_is_normal_with_variance_n_sigma_squared():
    """Closed form: a row receiving n presynaptic spikes reads n synapses, so its input is the exact
    Σ w plus N(0, n σ²); no spikes, no reads, no error."""
    net, w = _network()
    x = _one_step()
    _, rec = simulate(net, {"x": x}, backend=get_backend("numpy", dtype="float64"), record=("v",))
    v = rec.v["p"][0]  # [B, 6]
    exact = w[:, :10].sum(1)
    quiet, active = v[:1000], v[1000:]
    assert np.all(quiet == 0)
    err = active - exact
    n = len(err)
    assert np.all(np.abs(err.mean(0)) < 4 * SIGMA * np.sqrt(10 / n))
    assert np.all(np.abs(err.std(0) / (SIGMA * np.sqrt(10)) - 1) < 4 * np.sqrt(0.5 / n))
    assert abs(np.corrcoef(err[:, 0], err[:, 1])[0, 1]) < 4 / np.sqrt(n)  # independent rows


def test_read_noise_is_fresh_every_step_reproducible_and_the_same_on_every_backend():
    net, _ = _network()
    x = np.concatenate([_one_step(50)] * 3)
    runs = {b: simulate(net, {"x": x}, backend=get_backend(b, dtype="float64"), record=("v",)) for b in
            ("numpy", "torch", "numba")}
    v = runs["numpy"][1].v["p"]
    for b in ("torch", "numba"):  # the counter-based draws: the same numbers; numba runs the generic engine
        np.testing.assert_allclose(np.asarray(runs[b][1].v["p"]), v, rtol=0, atol=1e-12)
    steps = np.diff(v[:, 20:], axis=0)
    assert not np.allclose(steps[0], steps[1])  # fresh draws each step
    assert runs["numpy"][0].step == 3
    k = get_backend("numpy", dtype="float64")
    again = simulate(net, {"x": x}, backend=k, record=("v",))[1].v["p"]
    np.testing.assert_array_equal(again, v)
    other = simulate(_network(seed=4)[0], {"x": x}, backend=k, record=("v",))[1].v["p"]
    assert not np.allclose(other, v)
    # a run continued from its state draws what the straight run drew
    st, first = simulate(net, {"x": x[:1]}, backend=k, record=("v",))
    _, rest = simulate(net, {"x": x[1:]}, backend=k, state=st, record=("v",))
    np.testing.assert_array_equal(rest.v["p"], v[1:])


def test_a_crossbar_substrate_reads_its_spiking_synapses_noisily():
    net, _ = _network(read_noise=0.0)
    chip = on_substrate(net, get_substrate("reram-crossbar"), seed=1)
    assert chip.projections[0].read_noise == pytest.approx(0.01)  # σ_read S of the preset, S = 1
    with pytest.raises(ConfigError, match="read noise; use engine='auto' or 'generic'"):
        simulate(chip, {"x": _one_step(4)}, backend="numba", engine="fused")
    pytest.importorskip("brian2")
    from bioplast.reference.brian2_ref import run_brian2

    with pytest.raises(ConfigError, match="reads synapses exactly"):
        run_brian2(chip, {"x": _one_step(1)})


def test_bad_read_noise_is_refused():
    with pytest.raises(ConfigError, match="read_noise must be a finite number >= 0"):
        _network(read_noise=-0.1)
    with pytest.raises(ConfigError, match="only dense projections read devices"):
        SpikingNetwork([], [Population("p", 3, LIF())], [Projection("p", "p", "v", 0.1, "one_to_one", read_noise=0.1)],
                       dt=DT)
