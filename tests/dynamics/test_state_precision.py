"""Fixed-point neuron state (a substrate's ``state_bits``, Xylo's 16 bits) in spiking networks."""

import math

import numpy as np
import pytest

from bioplast.backends import get_backend
from bioplast.deploy import on_substrate
from bioplast.dynamics.spiking.engine import simulate
from bioplast.dynamics.spiking.network import Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.spiking.neurons import LIF, CondLIF
from bioplast.errors import ConfigError
from bioplast.hardware import DeviceProfile, get_substrate
from bioplast.testing import LIBM_ULPS, eps, worst_case

DT = 1e-3
K64 = get_backend("numpy", dtype="float64")
NEURON = LIF(tau_mem=20e-3, tau_syn=5e-3, v_thresh=1.0, v_reset=0.0, resistance=2.0)


def _one_neuron(w, grid):
    return SpikingNetwork(
        [SpikeSource("x", 1)],
        [Population("p", 1, NEURON, state_grid=grid)],
        [Projection("x", "p", "syn", np.array([[w]]))],
        dt=DT,
    )


def _spike_train(T=300, every=7):
    x = np.zeros((T, 1, 1), dtype=np.uint8)
    x[::every] = 1
    return x


def _reference(w, step, top, x):
    """The same recurrence written out in float64 (engine order: membrane from the current of the
    step's start, the current decays, both onto the grid, the step's input spikes add to the current,
    threshold, zero reset), for weights ``w[N, n_in]`` and spikes ``x[T, B, n_in]``.

    Also returns how safely every grid rounding was decided: ``margin``, the smallest distance of a
    value before rounding to a rounding boundary (a half step), and ``size``, a bound on the sum of the
    magnitudes of the operands that value was computed from (|v − target|, the products, the inputs)."""
    decay_v, decay_s = math.exp(-DT / NEURON.tau_mem), math.exp(-DT / NEURON.tau_syn)
    grid = {"margin": np.inf, "size": 0.0}

    def q(z, size):
        k = z / step  # exact: the steps here are powers of 2
        grid["margin"] = min(grid["margin"], float(np.min(np.abs(k - np.floor(k) - 0.5))) * step)
        grid["size"] = max(grid["size"], float(np.max(size)))
        return np.clip(np.round(k) * step, -top, top)

    v = s = np.zeros((x.shape[1], w.shape[0]))
    vs, spikes = [], []
    for xt in x.astype(np.float64):
        target = NEURON.v_rest + NEURON.resistance * s
        inputs = xt @ np.abs(w).T
        v = q(target + (v - target) * decay_v, 2 * np.abs(v - target) + 2 * np.abs(target))
        s = q(s * decay_s, 2 * np.abs(s)) + xt @ w.T
        grid["size"] = max(grid["size"], float(np.max(NEURON.resistance * 2 * (np.abs(s) + inputs))))
        fired = v > NEURON.v_thresh
        v = np.where(fired, NEURON.v_reset, v)
        vs.append(v)
        spikes.append(fired)
    return np.array(vs), np.array(spikes), grid


def _decided_alike(grid, dtype):
    """Whether an engine computing in ``dtype`` rounds every value onto the same grid level as the
    float64 reference.  Its value before rounding differs from the reference's by at most
    (γ₂₄ + LIBM_ULPS ε)·size — ≤ 24 operations (a ≤ 20-term input sum, the casts of weights and
    decays, products and adds; the target 2s and the grid values k·step are exact) and its exp —
    plus the reference's own float64 rounding and libm; if that is below the margin, both round
    to the same level, so grid states (and the spikes decided on them) agree exactly."""
    slack = sum((worst_case(d, 24) + LIBM_ULPS * eps(d)) * grid["size"] for d in (dtype, "float64"))
    return grid["margin"] > slack


def test_the_state_follows_the_fixed_point_recurrence_and_stays_on_its_grid():
    step, top = 1 / 64, 2.0
    x = _spike_train()
    _, rec = simulate(_one_neuron(1.0, (step, top)), {"x": x}, backend=K64, record=("spikes", "v"))
    v_ref, s_ref, grid = _reference(np.array([[1.0]]), step, top, x)
    v_ref, s_ref = v_ref[:, 0, 0], s_ref[:, 0, 0]
    v = rec.v["p"][:, 0, 0]
    assert s_ref.sum() > 3
    np.testing.assert_array_equal(rec.spikes["p"][:, 0, 0], s_ref)
    # exact: every rounding onto the grid is decided far from a half step (_decided_alike), and grid
    # values k/64 are exact floats, so the engine's float64 and the reference's levels are the same
    assert _decided_alike(grid, "float64")
    np.testing.assert_array_equal(v, v_ref)
    np.testing.assert_array_equal(v / step, np.round(v / step))  # k·2⁻⁶ divided by 2⁻⁶: exact
    # the grid changes the run: the exact neuron spikes at other times
    _, exact = simulate(_one_neuron(1.0, None), {"x": x}, backend=K64, record=("spikes", "v"))
    assert not np.allclose(exact.v["p"][:, 0, 0], v)


def test_the_state_saturates_at_the_top_of_its_range():
    """A drive far above threshold with a threshold beyond the range: the membrane sits at ``top``."""
    net = SpikingNetwork(
        [SpikeSource("x", 1)],
        [Population("p", 1, LIF(tau_mem=20e-3, tau_syn=5e-3, v_thresh=100.0, resistance=50.0), state_grid=(0.25, 8.0))],
        [Projection("x", "p", "syn", np.array([[4.0]]))],
        dt=DT,
    )
    _, rec = simulate(net, {"x": np.ones((200, 1, 1), dtype=np.uint8)}, backend=K64, record=("v",))
    v = rec.v["p"][:, 0, 0]
    assert v.max() == 8.0 and np.all(v <= 8.0)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_every_engine_keeps_the_same_fixed_point_state(backend):
    """float64 engines: every rounding onto the grid is decided at least ``margin`` (2.9e-7 here) from
    a half step, far beyond float64's slack (_decided_alike), so all engines hold the same levels.
    In float32 the slack (≈ 4e-5) exceeds that margin: equal float32 states would rest on the
    exp and sum rounding of one machine, so this test runs the engines in float64."""
    rng = np.random.default_rng(0)
    net = SpikingNetwork(
        [SpikeSource("x", 20)],
        [Population("p", 8, NEURON, state_grid=(1 / 128, 4.0))],
        [Projection("x", "p", "syn", rng.uniform(0, 0.4, (8, 20)))],
        dt=DT,
    )
    x = (rng.random((300, 2, 20)) < 0.05).astype(np.uint8)
    ref = simulate(net, {"x": x}, backend=K64, record=("spikes", "v"))[1]
    got = simulate(net, {"x": x}, backend=get_backend(backend, dtype="float64"), record=("spikes", "v"))[1]
    assert ref.spikes["p"].sum() > 20
    np.testing.assert_array_equal(np.asarray(got.spikes["p"]), ref.spikes["p"])
    v_ref, _, grid = _reference(np.asarray(net.projections[0].weights), 1 / 128, 4.0, x)
    assert _decided_alike(grid, "float64")
    np.testing.assert_array_equal(ref.v["p"], v_ref)
    np.testing.assert_array_equal(np.asarray(got.v["p"]), ref.v["p"])


def test_xylo_like_puts_a_static_network_on_its_16_bit_state():
    rng = np.random.default_rng(1)
    net = SpikingNetwork(
        [SpikeSource("x", 30)],
        [Population("p", 10, NEURON)],
        [Projection("x", "p", "syn", rng.uniform(-0.5, 0.8, (10, 30)))],
        dt=DT,
    )
    chip = on_substrate(net, get_substrate("xylo-like"))
    step = 2 / 255
    assert chip.populations[0].state_grid == (step, 32767 * step)  # the profile's same expressions: exact
    # 8-bit weights: an input adds whole state steps.  A level is k·s rounded, so w/s = k(1 + θ₂):
    # |w/s − k| ≤ |k| γ₂, |k| ≤ 127 (an off-grid weight is up to 1/2 off)
    w = np.asarray(chip.projections[0].weights)
    assert np.abs(w / step - np.round(w / step)).max() <= 127 * worst_case("float64", 2)
    x = (rng.random((200, 1, 30)) < 0.1).astype(np.uint8)
    _, rec = simulate(chip, {"x": x}, backend=K64, record=("spikes", "v"))
    assert rec.spikes["p"].sum() > 0
    # on the 16-bit grid: v = k·s rounded (or the reset 0), |k| ≤ 32767, so |v/s − k| ≤ 32767 γ₂
    assert np.abs(rec.v["p"] / step - np.round(rec.v["p"] / step)).max() <= 32767 * worst_case("float64", 2)
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
    from bioplast.training import TrainConfig, train

    with pytest.raises(ConfigError, match="a fixed-point neuron state is modelled for spiking networks"):
        train(
            TrainConfig(rule="backprop", substrate="fixed-point", substrate_params={"state_bits": 16}), progress=False
        )
