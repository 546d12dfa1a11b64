"""bioplast's native metrics equal NeuroBench's own (the ``neurobench`` package run on the same
torch modules and the same inputs, through its ``Benchmark`` harness).

Exact equality for counts and the static figures.  ``ActivationSparsity`` alone is compared within a
bound: NeuroBench averages the sparsity of each batch weighted by its size, bioplast takes the pooled
ratio of zero activations, the same number in exact arithmetic when every batch runs the same time
steps; each of the ≤ 3 roundings per batch is ≤ ε/2 relative, so over 2 batches 8 ε bounds it.
NeuroBench rounds ``ConnectionSparsity`` to 4 decimals; bioplast's is compared rounded the same way.
"""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("snntorch")
pytest.importorskip("neurobench")

from bioplast.backends import get_backend  # noqa: E402
from bioplast.data import load_task  # noqa: E402
from bioplast.metrics import Workload, evaluation_pass, static_metrics  # noqa: E402
from bioplast.metrics.crosscheck import mlp_module, run_neurobench, snn_module  # noqa: E402
from bioplast.metrics.passes import matrix, module_structure, snn_workload, surrogate_layers  # noqa: E402
from bioplast.metrics.static import Structure  # noqa: E402
from bioplast.models import build_model  # noqa: E402
from bioplast.models.surrogate import SurrogateModel  # noqa: E402
from bioplast.training import TrainConfig  # noqa: E402

EPS = float(np.finfo(np.float64).eps)


def test_surrogate_snn_figures_equal_neurobench():
    """The surrogate-gradient SNN (nn.Linear → snntorch.Leaky, twice) on Poisson spikes, with a
    quarter of its first layer's weights pruned so that sparsity and effective counts are not dense."""
    model = SurrogateModel(20, 4, n_hidden=12, lr=1e-3, seed=0)
    with torch.no_grad():
        mask = torch.as_tensor(np.random.default_rng(0).random((12, 20)) < 0.25)
        model.net.fc1.weight[mask] = 0.0
        model.net.fc1.weight *= 4.0  # enough drive that both layers spike
    rng = np.random.default_rng(1)
    spikes = torch.as_tensor(rng.random((16, 10, 20)) < 0.3)  # [T, N, D]
    layers = surrogate_layers(model)

    theirs = run_neurobench(snn_module(layers), spikes.transpose(0, 1).float(), torch.zeros(10), True, 5)
    work = Workload()
    for a in (0, 5):  # the same two batches of 5
        snn_workload(layers, spikes[:, a : a + 5], work)
    ours = work.results()
    modules = [(n, m) for n, m, _, _ in layers] + [(n, m) for _, _, n, m in layers]
    matrices = [matrix(f"{n}.weight", fc.weight.detach()) for n, fc, _, _ in layers]
    static = static_metrics(Structure(module_structure(modules), matrices, 32, "float32"))

    assert ours["SynapticOperations"]["Effective_ACs"] > 0 and ours["SynapticOperations"]["Effective_MACs"] == 0
    assert ours["SynapticOperations"] == theirs["SynapticOperations"]
    assert ours["MembraneUpdates"] == theirs["MembraneUpdates"]
    assert ours["NeuronOperations"] == theirs["NeuronOperations"]
    assert ours["ActivationSparsityByLayer"] == theirs["ActivationSparsityByLayer"]
    assert 0 < ours["ActivationSparsity"] < 1
    assert ours["ActivationSparsity"] == pytest.approx(theirs["ActivationSparsity"], rel=8 * EPS, abs=0)
    assert static["Footprint"] == theirs["Footprint"]
    assert static["ParameterCount"] == theirs["ParameterCount"]
    assert round(static["ConnectionSparsity"], 4) == theirs["ConnectionSparsity"] > 0


def test_rate_mlp_on_torch_figures_equal_neurobench():
    """A backprop MLP on the torch backend: binary inputs (accumulates in the first layer, as
    NeuroBench counts them), ReLU activations (multiply-accumulates above), some pruned weights."""
    data = load_task("digits", 0)
    k = get_backend("torch", dtype="float32")
    cfg = TrainConfig("backprop", backend="torch", hidden=(16,)).validate()
    model = build_model(cfg.kind, cfg, k, data)
    w0 = k.to_numpy(model.params.weights[0])
    w0[:, ::3] = 0.0
    model.params = model.params._replace(weights=[k.asarray(w0), *model.params.weights[1:]])
    x = (data.x_test[:300] > 0.5).astype(np.float32)  # two calls of a pass: 256 + 44 samples

    ev = evaluation_pass(model, x)
    net = model.network()
    module = mlp_module([k.to_numpy(w) for w in net.weights], [k.to_numpy(b) for b in net.biases])
    theirs = run_neurobench(module, torch.as_tensor(x), torch.zeros(len(x)), False, 256)
    ours, static = ev.workload, static_metrics(ev.structure)

    assert ours["SynapticOperations"]["Effective_ACs"] > 0 and ours["SynapticOperations"]["Effective_MACs"] > 0
    assert ours["SynapticOperations"] == theirs["SynapticOperations"]
    assert ours["MembraneUpdates"] == theirs["MembraneUpdates"] == 0
    assert ours["ActivationSparsityByLayer"]["layer1"] == theirs["ActivationSparsityByLayer"]["1"]
    assert ours["ActivationSparsity"] == pytest.approx(theirs["ActivationSparsity"], rel=8 * EPS, abs=0)
    assert static["Footprint"] == theirs["Footprint"]
    assert static["ParameterCount"] == theirs["ParameterCount"]
    assert round(static["ConnectionSparsity"], 4) == theirs["ConnectionSparsity"] > 0
