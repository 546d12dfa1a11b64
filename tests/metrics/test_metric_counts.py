"""bioplast.metrics' counts against brute force over recorded activity, on every backend.

Each brute force loops over samples, inputs and outputs of the activity a pass recorded (host
copies) and counts one operation per (sample, input, output) with a non-zero input and a non-zero
weight — NeuroBench's rule written the slow way — so a wrong vectorised count, a missed call or a
mis-scheduled step makes the figures differ.  Counts are integers: the comparisons are exact.
"""

import numpy as np
import pytest

from bioplast.backends import get_backend
from bioplast.data import load_task
from bioplast.dynamics.feedforward import forward
from bioplast.dynamics.relaxation import relax
from bioplast.dynamics.spiking.engine import simulate
from bioplast.dynamics.spiking.network import Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.spiking.neurons import LIF
from bioplast.metrics import Workload, evaluation_pass
from bioplast.metrics.counting import is_binary
from bioplast.metrics.passes import spiking_network_workload
from bioplast.models import build_model
from bioplast.training import TrainConfig

BACKENDS = ["numpy", "numba", "torch"]


def backend(name):
    if name == "torch":
        pytest.importorskip("torch")
    return get_backend(name, dtype="float64")


def brute_ops(x: np.ndarray, w: np.ndarray) -> int:
    """One operation per (sample b, output i, input j) with x_bj ≠ 0 and W_ij ≠ 0."""
    count = 0
    for b in range(x.shape[0]):
        for i in range(w.shape[0]):
            for j in range(w.shape[1]):
                count += int(x[b, j] != 0 and w[i, j] != 0)
    return count


def brute_membrane(path: np.ndarray, before=None) -> int:
    """NeuroBench's membrane updates: every neuron at a pass's first call, then each one that changed."""
    first = path[0].size if before is None else int((path[0] != before).sum())
    return first + sum(
        int(path[t][b, n] != path[t - 1][b, n])
        for t in range(1, len(path))
        for b in range(path.shape[1])
        for n in range(path.shape[2])
    )


@pytest.mark.parametrize("name", BACKENDS)
def test_connection_counts_and_the_binary_rule(name):
    k = backend(name)
    rng = np.random.default_rng(0)
    w = rng.normal(size=(5, 7)) * (rng.random((5, 7)) < 0.6)
    spikes = (rng.random((4, 7)) < 0.3).astype(float)
    graded = rng.normal(size=(4, 7)) * (rng.random((4, 7)) < 0.5)
    work = Workload()
    work.connection(k.asarray(spikes), k.asarray(w))
    work.connection(k.asarray(graded), k.asarray(w))
    work.connection(k.asarray(-spikes), k.asarray(w))  # −1 counts as a spike too
    work.add_samples(4)
    ops = work.results()["SynapticOperations"]
    assert ops["Effective_ACs"] * 4 == 2 * brute_ops(spikes, w)
    assert ops["Effective_MACs"] * 4 == brute_ops(graded, w)
    assert ops["Dense"] * 4 == 3 * 4 * 5 * 7
    assert not is_binary(k.asarray(np.array([[0.0, 0.5]])))


@pytest.mark.parametrize("name", BACKENDS)
def test_mlp_pass_matches_brute_force(name):
    k = backend(name)
    data = load_task("digits", 0)
    cfg = TrainConfig("backprop", backend=name, dtype="float64", hidden=(12, 8)).validate()
    model = build_model(cfg.kind, cfg, k, data)
    x = data.x_test[:20]
    x[:, :10] = 0.0  # some zero inputs
    ev = evaluation_pass(model, x)
    inputs, _ = forward(k, model.network(), k.asarray(x), model.activation)
    host = [k.to_numpy(h) for h in inputs]
    weights = [k.to_numpy(w) for w in model.network().weights]
    macs = sum(brute_ops(h, w) for h, w in zip(host, weights, strict=True))
    assert ev.workload["SynapticOperations"] == {
        "Effective_MACs": macs / 20,
        "Effective_ACs": 0.0,
        "Dense": (64 * 12 + 12 * 8 + 8 * 10),
    }
    zeros = [int((h == 0).sum()) for h in host[1:]]
    assert ev.workload["ActivationSparsityByLayer"] == {"layer1": zeros[0] / (20 * 12), "layer2": zeros[1] / (20 * 8)}
    assert ev.workload["ActivationSparsity"] == sum(zeros) / (20 * 20)
    assert ev.workload["MembraneUpdates"] == 0  # a feed-forward rate neuron has no membrane
    assert "NeuronOperations" not in ev.workload


@pytest.mark.parametrize("name", BACKENDS)
def test_ep_pass_matches_brute_force_of_the_free_phase(name):
    """The free phase recomputed on the host, step by step from its definition: the input drive once,
    then every step the drives from the states of the step before, then the readout."""
    k = backend(name)
    data = load_task("digits", 0)
    cfg = TrainConfig("eqprop", backend=name, dtype="float64", hidden=(6,), rule_params={"free_steps": 4})
    cfg.validate()
    model = build_model(cfg.kind, cfg, k, data)
    x = data.x_test[:5]
    ev = evaluation_pass(model, x)
    net = model.network()
    ws = [k.to_numpy(w) for w in net.weights]
    states = [np.zeros((5, w.shape[0])) for w in ws]
    drive = k.linear(k.asarray(x), net.weights[0], net.biases[0])
    ops, paths = brute_ops(x, ws[0]), [[] for _ in ws]
    for _ in range(4):
        ops += sum(brute_ops(states[l - 1], ws[l]) for l in range(1, len(ws)))
        ops += sum(brute_ops(states[l + 1], ws[l + 1].T) for l in range(len(ws) - 1))
        new, _ = relax(k, net, k.asarray(x), [k.asarray(s) for s in states], 1, model.activation, input_drive=drive)
        states = [k.to_numpy(s) for s in new]
        for l, s in enumerate(states):
            paths[l].append(s)
    if net.readout is not None:
        ops += brute_ops(states[-1], k.to_numpy(net.readout[0]))
    dense = 64 * 6 + 4 * 2 * 6 * 10 + (10 * 10 if net.readout is not None else 0)
    assert ev.workload["SynapticOperations"]["Effective_MACs"] == ops / 5
    assert ev.workload["SynapticOperations"]["Dense"] == dense
    updates = sum(brute_membrane(np.stack(p)) for p in paths)
    assert ev.workload["MembraneUpdates"] == updates / 5


def small_network():
    """Input → LIF (dense, some zero weights) → LIF (one-to-one), with all-but-self inhibition."""
    rng = np.random.default_rng(1)
    w = rng.uniform(0.2, 0.9, (6, 5)) * (rng.random((6, 5)) < 0.7)
    lif = LIF(v_thresh=0.5, tau_mem=10e-3, refractory=2e-3)
    return SpikingNetwork(
        [SpikeSource("in", 5)],
        [Population("a", 6, lif), Population("b", 6, LIF(v_thresh=0.3, tau_mem=10e-3, reset="subtract"))],
        [
            Projection("in", "a", "v", w),
            Projection("a", "b", "v", 0.6, "one_to_one"),
            Projection("b", "a", "v", -0.2, "all_but_self"),
        ],
        1e-3,
    ), w


@pytest.mark.parametrize("name", BACKENDS)
def test_spiking_network_counts_match_brute_force_over_recorded_spikes(name):
    k = backend(name)
    net, w = small_network()
    rng = np.random.default_rng(2)
    spikes = rng.random((250, 3, 5)) < 0.4  # 250 steps: three recorded chunks of TIME_CHUNK = 100
    work = Workload()
    spiking_network_workload(net, {"in": spikes}, k, work)
    _, rec = simulate(net, {"in": spikes}, backend=k, learn=False, record=("spikes", "v"))
    a, b = rec.spikes["a"], rec.spikes["b"]
    one_to_one, all_but_self = np.eye(6), 1.0 - np.eye(6)
    acs = sum(
        brute_ops(spikes[t].astype(float), w)
        + brute_ops(a[t].astype(float), one_to_one)
        + brute_ops(b[t].astype(float), all_but_self)
        for t in range(250)
    )
    out = work.results()
    assert out["SynapticOperations"] == {
        "Effective_MACs": 0.0,
        "Effective_ACs": acs / 3,
        "Dense": 250 * (6 * 5 + 36 + 36),
    }
    assert a.sum() > 0 and b.sum() > 0  # the network is active: the counts are not trivially zero
    for pop in ("a", "b"):
        fired = rec.spikes[pop]
        assert out["ActivationSparsityByLayer"][pop] == (fired.size - fired.sum()) / fired.size
    updates = brute_membrane(rec.v["a"]) + brute_membrane(rec.v["b"])
    assert out["MembraneUpdates"] == updates / 3
    # both populations are snnTorch's Leaky: 4 operations an update (NeuroBench's table)
    assert out["NeuronOperations"] == {"Effective Neuron Ops": 4 * updates / 3, "Neuron Dense Ops": 4 * 250 * 12}


@pytest.mark.parametrize("name", ["numpy", "numba"])
def test_effective_accumulates_equal_the_engines_own_synaptic_events(name):
    """Two independent counters: the engine's synaptic events (one per spike and outgoing synapse)
    and the metric's effective ACs agree where no weight is zero."""
    k = backend(name)
    net, _ = small_network()
    dense = np.full((6, 5), 0.5)
    net = SpikingNetwork(net.sources, net.populations, (Projection("in", "a", "v", dense), *net.projections[1:]), 1e-3)
    spikes = np.random.default_rng(3).random((120, 2, 5)) < 0.3
    work = Workload()
    spiking_network_workload(net, {"in": spikes}, k, work)
    _, rec = simulate(net, {"in": spikes}, backend=k, learn=False)
    assert work.results()["SynapticOperations"]["Effective_ACs"] * 2 == rec.ops["synops"]
