"""NeuroBench itself on bioplast's torch networks: the independent count :mod:`bioplast.metrics` is
checked against (needs the optional ``neurobench`` package: ``pip install "bioplast[metrics]"``).

:func:`snn_module` wraps a stack of ``nn.Linear`` connections and ``snntorch.Leaky`` neurons (the
surrogate-gradient SNN's) as the ``nn.Module`` NeuroBench's ``SNNTorchModel`` runs one time step per
call; :func:`mlp_module` a rate MLP's weights as ``nn.Sequential(Linear, ReLU, …, Linear)``;
:func:`run_neurobench` runs NeuroBench's ``Benchmark`` harness with its static and workload metrics.
"""

from __future__ import annotations

from bioplast.errors import ConfigError
from bioplast.optional import require

STATIC = ("Footprint", "ParameterCount", "ConnectionSparsity")
WORKLOAD = ("ActivationSparsity", "ActivationSparsityByLayer", "SynapticOperations", "MembraneUpdates")


def snn_module(layers):
    """``layers`` (``(name, nn.Linear, name, snntorch.Leaky)`` each) as one module whose children keep
    those names and whose ``forward(x_t)`` runs one time step: ``(output spikes, output membrane)``."""
    torch = require("torch", "the NeuroBench cross-check")

    class Stack(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.order = []
            for fc_name, fc, lif_name, lif in layers:
                self.add_module(fc_name, fc)
                self.add_module(lif_name, lif)
                self.order.append((fc_name, lif_name))

        def forward(self, x):
            h, mem = x, None
            for fc_name, lif_name in self.order:
                h, mem = getattr(self, lif_name)(getattr(self, fc_name)(h))  # the neuron keeps its membrane
            return h, mem

    return Stack()


def mlp_module(weights, biases, activation: str = "relu"):
    """A rate MLP (host ``W_l[n_out, n_in]``, ``b_l``) as ``nn.Sequential(Linear, ReLU, …, Linear)``:
    NeuroBench hooks ReLU and Sigmoid activations only."""
    torch = require("torch", "the NeuroBench cross-check")
    acts = {"relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid}
    if activation not in acts:
        raise ConfigError(f"NeuroBench hooks the activations {sorted(acts)}; got {activation!r}")
    mods = []
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        fc = torch.nn.Linear(int(w.shape[1]), int(w.shape[0]))
        with torch.no_grad():
            fc.weight.copy_(torch.as_tensor(w))
            fc.bias.copy_(torch.as_tensor(b))
        mods.append(fc)
        if i < len(weights) - 1:
            mods.append(acts[activation]())
    return torch.nn.Sequential(*mods)


def run_neurobench(module, data, labels, spiking: bool, batch_size: int) -> dict:
    """NeuroBench's ``Benchmark(...).run()`` results for ``module`` on ``data`` (torch tensors:
    ``[N, T, D]`` spikes for an snnTorch ``module`` run by ``SNNTorchModel``, else ``[N, D]`` for
    ``TorchModel``) in batches of ``batch_size``: its static metrics, its workload metrics, and for
    spiking modules ``NeuronOperations``.  The snnTorch neurons' membranes are emptied first:
    NeuroBench's ``Footprint`` counts every buffer, and a neuron that has run keeps its last membrane
    (of the last batch's size) in one."""
    torch = require("torch", "the NeuroBench cross-check")
    require("neurobench", "the NeuroBench cross-check")
    from neurobench.benchmarks import Benchmark
    from neurobench.metrics import static, workload
    from neurobench.models import SNNTorchModel, TorchModel

    for m in module.modules():  # NeuroBench's Footprint counts a membrane an snnTorch neuron kept from a run
        if isinstance(getattr(m, "mem", None), torch.Tensor) and type(m).__module__.startswith("snntorch"):
            m.mem = torch.zeros(0)
    model = SNNTorchModel(module) if spiking else TorchModel(module)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data, labels), batch_size=batch_size)
    workloads = [getattr(workload, name) for name in WORKLOAD]
    if spiking:
        workloads.append(workload.NeuronOperations)
    bench = Benchmark(model, loader, [], [], [[getattr(static, name) for name in STATIC], workloads])
    return bench.run(quiet=True)
