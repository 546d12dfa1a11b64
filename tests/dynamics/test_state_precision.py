"""Fixed-point neuron state (a substrate's ``state_bits``, Xylo's 16 bits) in spiking networks."""
import math

import numpy as np
import pytest

from bioplast.backends import get_backend
from bioplast.dynamics.network import Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.neurons import LIF, CondLIF
from bioplast.dynamics.spiking import simulate
from bioplast.errors import ConfigError
from bioplast.hardware import DeviceProfile, get_substrate, on_substrate

DT = 1e-3
K64 = get_backend("numpy", dtype="float64")
NEURON = LIF(tau_mem=20e-3, tau_syn=5e-3, v_thresh=1.0, v_reset=0.0, resistance=2.0)


def _one_neuron(w, grid):
    return SpikingNetwork([SpikeSource("x", 1)], [Population("p", 1, NEURON, state_grid=grid)],
                          [Projection("x", "p", "syn", np.array([[w]]))], dt=DT)


def _spike_train(T=300, every=7):
    x = np.zeros((T, 1, 1), dtype=np.uint8)
    x[::every] = 1
    return x


def _reference(w, step, top, x):
    """The same recurrence written out for one neuron (engine order: membrane from the current of the
    step's start, the current decays, both onto the grid, the step's input spikes add to the current,
    threshold, zero reset)."""
    def q(z):
        return min(max(round(z / step) * step, -top), top)

    decay_v, decay_s = math.exp(-DT / NEURON.tau_mem), math.exp(-DT / NEURON.tau_syn)
    v = s = 0.0
    vs, spikes = [], []
    for t in range(x.shape[0]):
        target = NEURON.v_rest + NEURON.resistance * s
        v = q(target + (v - target) * decay_v)
        s = q(s * decay_s) + w * x[t, 0, 0]
        fired = v > NEURON.v_thresh
        v = NEURON.v_reset if fired else v
        vs.append(v)
        spikes.append(fired)
    return np.array(vs), np.array(spikes)


def test_the_state_follows_the_fixed_point_recurrence_and_stays_on_its_grid():
    step, top = 1 / 64, 2.0
    x = _spike_train()
    _, rec = simulate(_one_neuron(1.0, (step, top)), {"x": x}, backend=K64, record=("spikes", "v"))
    v_ref, s_ref = _reference(1.0, step, top, x)
    v = rec.v["p"][:, 0, 0]
    assert s_ref.sum() > 3
    np.testing.assert_array_equal(rec.spikes["p"][:, 0, 0], s_ref)
    np.testing.assert_allclose(v, v_ref, rtol=0, atol=1e-12)
    assert np.allclose(v / step, np.round(v / step), atol=1e-9)
    # the grid changes the run: the exact neuron spikes at other times
    _, exact = simulate(_one_neuron(1.0, None), {"x": x}, backend=K64, record=("spikes", "v"))
    assert not np.allclose(exact.v["p"][:, 0, 0], v)


def test_the_state_saturates_at_the_top_of_its_range():
    """A drive far above threshold with a threshold beyond the range: the membrane sits at ``top``."""
    net = SpikingNetwork([SpikeSource("x", 1)],
                         [Population("p", 1, LIF(tau_mem=20e-3, tau_syn=5e-3, v_thresh=100.0, resistance=50.0),
                                     state_grid=(0.25, 8.0))],
                         [Projection("x", "p", "syn", np.array([[4.0]]))], dt=DT)
    _, rec = simulate(net, {"x": np.ones((200, 1, 1), dtype=np.uint8)}, backend=K64, record=("v",))
    v = rec.v["p"][:, 0, 0]
    assert v.max() == 8.0 and np.all(v <= 8.0)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_every_engine_keeps_the_same_fixed_point_state(backend):
    rng = np.random.default_rng(0)
    net = SpikingNetwork([SpikeSource("x", 20)], [Population("p", 8, NEURON, state_grid=(1 / 128, 4.0))],
                         [Projection("x", "p", "syn", rng.uniform(0, 0.4, (8, 20)))], dt=DT)
    x = (rng.random((300, 2, 20)) < 0.05).astype(np.uint8)
    ref = simulate(net, {"x": x}, backend="numpy", record=("spikes", "v"))[1]
    got = simulate(net, {"x": x}, backend=backend, record=("spikes", "v"))[1]
    assert ref.spikes["p"].sum() > 20
    np.testing.assert_array_equal(np.asarray(got.spikes["p"]), ref.spikes["p"])
    np.testing.assert_allclose(np.asarray(got.v["p"]), ref.v["p"], rtol=0, atol=1e-5)  # float32 vs float64


def test_xylo_like_puts_a_static_network_on_its_16_bit_state():
    rng = np.random.default_rng(1)
    net = SpikingNetwork([SpikeSource("x", 30)], [Population("p", 10, NEURON)],
                         [Projection("x", "p", "syn", rng.uniform(-0.5, 0.8, (10, 30)))], dt=DT)
    chip = on_substrate(net, get_substrate("xylo-like"))
    step = 2 / 255
    assert chip.populations[0].state_grid == pytest.approx((step, 32767 * step))
    w = np.asarray(chip.projections[0].weights)
    assert np.allclose(w / step, np.round(w / step))  # 8-bit weights: an input adds whole state steps
    x = (rng.random((200, 1, 30)) < 0.1).astype(np.uint8)
    _, rec = simulate(chip, {"x": x}, backend=K64, record=("spikes", "v"))
    assert rec.spikes["p"].sum() > 0
    assert np.allclose(rec.v["p"] / step, np.round(rec.v["p"] / step), atol=1e-9)
    with pytest.raises(ConfigError, match="fixed-point state grid; use engine='auto' or 'generic'"):
        simulate(chip, {"x": x}, backend="numba", engine="fused")
    pytest.importorskip("brian2")
    from bioplast.reference.brian2_ref import run_brian2

    with pytest.raises(ConfigError, match="Brian2 does not model"):
        run_brian2(chip, {"x": x})


def test_bad_state_precision_is_refused_by_name():
    with pytest.raises(ConfigError, match="state_bits = 16 counts the neuron state in units of the weight step"):
        DeviceProfile("s", state_bits=16)
    with pytest.raises(ConfigError, match="state_bits must be an integer in \\[2, 32\\]"):
        DeviceProfile("s", bits=8, state_bits=1)
    with pytest.raises(ConfigError, match="state_grid needs a finite step > 0"):
        _one_neuron(0.5, (0.0, 1.0))
    with pytest.raises(ConfigError, match="modelled for current-based LIF neurons"):
        SpikingNetwork([], [Population("c", 2, CondLIF(), state_grid=(0.1, 1.0))], [], dt=DT)
    from bioplast.train import TrainConfig, train

    with pytest.raises(ConfigError, match="a fixed-point neuron state is modelled for spiking networks"):
        train(TrainConfig(rule="backprop", substrate="fixed-point", substrate_params={"state_bits": 16}),
              progress=False)
