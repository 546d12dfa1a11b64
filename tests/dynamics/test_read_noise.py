"""Noisy device reads in spiking networks: every delivered spike reads its synapse as w + σξ."""

import dataclasses

import numpy as np
import pytest

from bioplast.backends import get_backend
from bioplast.deploy import on_substrate
from bioplast.dynamics.spiking.engine import simulate
from bioplast.dynamics.spiking.network import Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.spiking.neurons import LIF
from bioplast.errors import ConfigError
from bioplast.hardware import get_substrate
from bioplast.testing import libm_disagreement, worst_case
from bioplast.testing.spiking import stdp_weights

DT = 1e-3
SIGMA = 0.05


def _network(read_noise=SIGMA, seed=3):
    # an integrator that never fires: after one step its membrane is the step's synaptic input
    w = np.random.default_rng(0).uniform(-0.5, 0.5, (6, 50))
    lif = LIF(tau_mem=1e3, v_thresh=1e9)
    return SpikingNetwork(
        [SpikeSource("x", 50)],
        [Population("p", 6, lif)],
        [Projection("x", "p", "v", w, read_noise=read_noise, read_seed=seed)],
        dt=DT,
    ), w


def _one_step(B=4000):
    x = np.zeros((1, B, 50), dtype=np.uint8)
    x[0, :, :10] = 1  # ten inputs spike in every sample
    x[0, : B // 4] = 0  # and none in a quarter of them
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


@pytest.mark.slow
def test_read_noise_is_fresh_every_step_reproducible_and_the_same_on_every_backend():
    """The counter-based draws are bit for bit alike on every engine (IEEE operations only,
    :mod:`bioplast.backends.counter_rng`); the membranes then differ by the rounding of the three
    steps — each a sum over the 10 spiking inputs (BLAS or loops: ≤ 10 rounded adds), the read error's
    product σ √n ζ (2), its add, the jump's add and the leak ``v ρ`` (3 together), on operands
    ≤ 3 max|v| + Σ_active |w| + 5.3 σ √10 (the draws are truncated at ±5.3) — and by ρ = e^{−dt/τ}
    from each engine's exp.  ρ ≈ 1 − 10⁻⁶ damps nothing: the per-step differences add up."""
    net, w = _network()
    x = np.concatenate([_one_step(50)] * 3)
    runs = {
        b: simulate(net, {"x": x}, backend=get_backend(b, dtype="float64"), record=("v",)) for b in ("numpy", "torch")
    }
    for engine in ("generic", "fused"):
        runs[engine] = simulate(
            net, {"x": x}, backend=get_backend("numba", dtype="float64"), record=("v",), engine=engine
        )
    v = runs["numpy"][1].v["p"]
    size = 3 * np.abs(v).max() + np.abs(w[:, :10]).sum(1).max() + 5.3 * SIGMA * np.sqrt(10)
    bound = len(x) * (2 * worst_case("float64", 15) + libm_disagreement("float64")) * size
    for b in ("torch", "generic", "fused"):
        assert np.abs(np.asarray(runs[b][1].v["p"]) - v).max() <= bound
    assert runs["fused"][0].step == 3
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
    assert chip.projections[0].read_noise == 0.01  # σ_read S of the preset: S = 1, a product by 1 is exact
    pytest.importorskip("brian2")
    from bioplast.reference.brian2_ref import run_brian2

    with pytest.raises(ConfigError, match="reads synapses exactly"):
        run_brian2(chip, {"x": _one_step(1)})


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_fused_engine_reads_as_noisily_as_the_generic_one(dtype):
    """A learning, recurrent, refractory network on a noisy crossbar (conductance targets, a
    recurrent dense projection whose jumps of v skip refractory neurons): the event-driven kernel
    adds the generic engine's read errors, so spikes agree exactly and weights to the rounding of their
    STDP updates (:func:`bioplast.testing.spiking.stdp_weights`; the trace decays are the same Python
    floats on both)."""
    from bioplast.core import plasticity
    from bioplast.dynamics.spiking.neurons import CondLIF
    from bioplast.geometry import additive
    from bioplast.hardware import clip_bounds
    from bioplast.rules.stdp import diehl_cook_stdp

    rng = np.random.default_rng(5)
    stdp = plasticity(diehl_cook_stdp(1e-3, 2e-2, dt=DT), additive(1.0), clip_bounds(0.0, 1.0))
    exc = CondLIF(
        v_rest=-65e-3,
        v_reset=-65e-3,
        v_thresh=-52e-3,
        tau_mem=20e-3,
        e_exc=0.0,
        e_inh=-100e-3,
        tau_ge=2e-3,
        tau_gi=2e-3,
        refractory=3e-3,
    )
    net = SpikingNetwork(
        [SpikeSource("x", 40)],
        [Population("e", 12, exc), Population("r", 5, LIF(tau_mem=20e-3, refractory=2e-3))],
        [
            Projection("x", "e", "ge", rng.uniform(0, 0.5, (12, 40)), plasticity=stdp, read_noise=0.05, read_seed=7),
            Projection("e", "r", "v", rng.uniform(0, 0.6, (5, 12)), read_noise=0.2, read_seed=8),
            Projection("r", "r", "v", rng.uniform(-0.2, 0.2, (5, 5)), read_noise=0.1, read_seed=9),
        ],
        dt=DT,
    )
    x = (rng.random((300, 3, 40)) < 0.05).astype(np.uint8)
    k = get_backend("numba", dtype=dtype)
    out = {e: simulate(net, {"x": x}, backend=k, record=("spikes",), engine=e) for e in ("generic", "fused")}
    (st_g, rec_g), (st_f, rec_f) = out["generic"], out["fused"]
    assert rec_g.counts["e"].sum() > 30 and rec_g.counts["r"].sum() > 10
    for pop in ("e", "r"):
        np.testing.assert_array_equal(rec_f.spikes[pop], rec_g.spikes[pop])
    bound = stdp_weights(dtype, stdp, net.projections[0].weights, x, rec_g.spikes["e"], traces_alike=True)
    assert np.abs(np.asarray(st_f.weights[0], dtype=np.float64) - np.asarray(st_g.weights[0])).max() <= bound
    quiet = SpikingNetwork(
        net.sources, net.populations, [dataclasses.replace(p, read_noise=0.0) for p in net.projections], dt=DT
    )
    assert not np.array_equal(
        simulate(quiet, {"x": x}, backend=k, record=("spikes",))[1].spikes["e"], rec_f.spikes["e"]
    )  # the noise matters here


def test_bad_read_noise_is_refused():
    with pytest.raises(ConfigError, match="read_noise must be a finite number >= 0"):
        _network(read_noise=-0.1)
    with pytest.raises(ConfigError, match="only dense projections read devices"):
        SpikingNetwork(
            [], [Population("p", 3, LIF())], [Projection("p", "p", "v", 0.1, "one_to_one", read_noise=0.1)], dt=DT
        )
