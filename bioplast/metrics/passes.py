r"""Evaluation passes: each model kind runs its inference on some samples and tells a
:class:`~bioplast.metrics.workload.Workload` what it did, and describes what it holds
(:class:`~bioplast.metrics.static.Structure`).

A pass computes what the model's prediction computes, on the model's backend, without touching
the streams training draws from: exact reads (the substrate's read noise changes values, not which
operations run), and spike trains from a stream of their own (``seed``).  Per kind:

* rate MLPs (every rule): one call of every layer per batch; the hidden layers' outputs are
  activations; a feed-forward rate neuron has no membrane.
* EP: the free phase as :func:`~bioplast.dynamics.relaxation.relax` runs it, one step at a time: the
  input drive ``W_1 x`` once, every step the bottom-up drive of the layers above the first and the
  top-down drive of the layers below the top, then the readout once; every state layer is a neuron
  layer whose state (the membrane of a rate neuron) is updated every step.
* Dale networks: every product of the forward pass (DANN: ``W_IX h``, ``W_EX h``, ``W_EI z_I`` and
  the divisive ``W_EI z_I`` again; E/I MLP: one per layer).
* spiking networks (:func:`spiking_network_workload`; Diehl & Cook): every projection at every
  time step, its presynaptic spikes as inputs (one-to-one and all-but-self projections as the
  matrices they stand for); every population's spikes and membrane.
* the surrogate-gradient SNN (:func:`snn_workload`): ``nn.Linear`` → ``snntorch.Leaky``, twice, at
  every time step, as NeuroBench runs an snnTorch network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from bioplast.dynamics.feedforward import forward
from bioplast.dynamics.relaxation import relax
from bioplast.dynamics.spiking.engine import initial_state, simulate
from bioplast.dynamics.spiking.network import SpikingNetwork
from bioplast.dynamics.spiking.neurons import LIF
from bioplast.errors import ConfigError
from bioplast.metrics.counting import column_fan_out, nonzero, size
from bioplast.metrics.static import Matrix, Stored, Structure, weight_bits
from bioplast.metrics.workload import NEURON_OPS, Workload
from bioplast.models.dale import DaleModel
from bioplast.models.diehl_cook import INPUT, DiehlCookModel, build_network
from bioplast.models.ep import EPModel
from bioplast.models.mlp import MLP
from bioplast.models.surrogate import SurrogateModel
from bioplast.optional import require

BATCH = 256  # samples a call of a rate pass (the figures are per sample: the batch changes no count)
SPIKING_BATCH = 16  # samples simulated together in a spiking pass
TIME_CHUNK = 100  # time steps recorded at once (bounds the memory of the recorded membranes)


class Evaluation(NamedTuple):
    """A pass's workload figures (:meth:`Workload.results`) and the model's :class:`Structure`."""

    workload: dict
    structure: Structure


def itemsize(a) -> int:
    """Bytes an entry of backend array ``a`` takes (numpy or torch)."""
    return int(a.element_size()) if hasattr(a, "element_size") else int(np.asarray(a).itemsize)


def matrix(name: str, w) -> Matrix:
    n = size(w)
    return Matrix(name, n, n - nonzero(w))


def _profile(chip):
    return None if chip is None else chip.profile


def _stored_and_matrices(named: dict, k_itemsize_of, on_devices) -> tuple[list, list]:
    stored, matrices = [], []
    for name, a in named.items():
        devices = on_devices(name, a)
        stored.append(Stored(name, size(a), k_itemsize_of(a), True, devices))
        if len(a.shape) == 2:
            matrices.append(matrix(name, a))
    return stored, matrices


# ---- rate MLPs ------------------------------------------------------------------------------------
def mlp_pass(model: MLP, x, seed: int = 0) -> Evaluation:
    """The MLP family's pass (module docstring)."""
    k, work = model.k, Workload()
    net = model.network()
    for a in range(0, len(x), BATCH):
        inputs, _ = forward(k, net, k.asarray(x[a : a + BATCH]), model.activation)
        for i, (h, w) in enumerate(zip(inputs, net.weights, strict=True)):
            work.connection(h, w)
            if i > 0:
                work.activation(f"layer{i}", h)
                work.no_membrane(f"layer{i}")
        work.add_samples(len(x[a : a + BATCH]))
    named = {
        **{f"W{i}": w for i, w in enumerate(model.params.weights)},
        **{f"b{i}": b for i, b in enumerate(model.params.biases)},
    }
    stored, matrices = _stored_and_matrices(named, itemsize, lambda name, a: len(a.shape) == 2)
    bits, fmt = weight_bits(_profile(model.chip), 8 * itemsize(model.params.weights[0]))
    return Evaluation(work.results(), Structure(stored, matrices, bits, fmt))


# ---- EP -----------------------------------------------------------------------------------------
def ep_pass(model: EPModel, x, seed: int = 0) -> Evaluation:
    """EP's free phase, step by step (module docstring)."""
    k, work, p = model.k, Workload(), model.p
    net = model.network()
    n = len(net.weights)
    downs = [w.T for w in net.weights[1:]] if net.feedback is None else list(net.feedback)
    for a in range(0, len(x), BATCH):
        xb = k.asarray(x[a : a + BATCH])
        states = [k.zeros((int(xb.shape[0]), int(w.shape[0]))) for w in net.weights]
        drive = k.linear(xb, net.weights[0], net.biases[0])
        work.connection(xb, net.weights[0])
        trajectory: list[list] = [[] for _ in range(n)]
        for _ in range(p["free_steps"]):
            for l in range(1, n):
                work.connection(states[l - 1], net.weights[l])
            for l in range(n - 1):
                work.connection(states[l + 1], downs[l])
            states, _ = relax(k, net, xb, states, 1, model.activation, dt=p["dt"], input_drive=drive)
            for l in range(n):
                trajectory[l].append(states[l])
        if net.readout is not None:
            work.connection(states[-1], net.readout[0])
        for l in range(n):
            path = k.xp.stack(trajectory[l])
            work.activation(f"layer{l + 1}", path)
            work.membranes(f"layer{l + 1}", path)
        work.add_samples(int(xb.shape[0]))
    named = {f"W{i}": w for i, w in enumerate(model.net.weights)}
    named.update({f"b{i}": b for i, b in enumerate(model.net.biases)})
    named.update({f"B{i + 1}": f for i, f in enumerate(model.net.feedback or [])})
    if model.net.readout is not None:
        named.update({"W_out": model.net.readout[0], "b_out": model.net.readout[1]})
    stored, matrices = _stored_and_matrices(named, itemsize, lambda name, a: len(a.shape) == 2)
    bits, fmt = weight_bits(_profile(model.chip), 8 * itemsize(model.net.weights[0]))
    return Evaluation(work.results(), Structure(stored, matrices, bits, fmt))


# ---- Dale networks --------------------------------------------------------------------------------
def _recording_read(work: Workload, inputs: dict):
    """A ``read(m, h, W)`` for :meth:`DaleModel._forward` that computes ``h Wᵀ`` exactly, counts it and
    keeps its operands in ``inputs[m]``."""

    def read(m, h, w):
        work.connection(h, w)
        inputs[m] = (h, w)
        return h @ w.T

    return read


def dale_pass(model: DaleModel, x, seed: int = 0) -> Evaluation:
    """Every product of the Dale network's forward pass (module docstring)."""
    k, work = model.k, Workload()
    dann = model.network == "dann"
    for a in range(0, len(x), BATCH):
        xb = k.asarray(x[a : a + BATCH])
        inputs: dict = {}
        model._forward(k.xp, model.params, xb, _recording_read(work, inputs))
        per_layer = 3 if dann else 1
        layers = len(inputs) // per_layer
        for l in range(1, layers):
            h = inputs[per_layer * l][0]
            work.activation(f"layer{l}", h)
            work.no_membrane(f"layer{l}")
        if dann:  # divisive inhibition: γ = z_I (W_EI ⊙ e^α)ᵀ, the same synapses once more
            first = 0
            for l, n_fields in enumerate(model._layout):
                if model.params[first + 4] is not None:  # α, the layer's fifth field
                    work.connection(*inputs[3 * l + 2])
                first += n_fields
        work.add_samples(int(xb.shape[0]))
    named = {f"P{i}": p for i, p in enumerate(model.params) if p is not None}
    stored, matrices = _stored_and_matrices(named, itemsize, lambda name, a: len(a.shape) == 2)
    bits, fmt = weight_bits(_profile(model.chip), 8 * itemsize(model.params[0]))
    return Evaluation(work.results(), Structure(stored, matrices, bits, fmt))


# ---- spiking networks -----------------------------------------------------------------------------
def neuron_ops(neuron) -> int | None:
    """Operations of one membrane update of ``neuron`` (:data:`~bioplast.metrics.workload.NEURON_OPS`),
    ``None`` for a model NeuroBench has no figure for (the conductance-based LIF)."""
    if not isinstance(neuron, LIF):
        return None
    return NEURON_OPS[("Leaky" if neuron.tau_syn is None else "Synaptic", neuron.reset)]


def _fan_out(pr, n_pre: int, n_post: int):
    """``(fan-out per presynaptic neuron, n_out)`` of a projection, as the matrix it applies."""
    if pr.connectivity == "dense":
        return column_fan_out(np.asarray(pr.weights)), n_post
    reach = 1 if pr.connectivity == "one_to_one" else n_post - 1
    return np.full(n_pre, reach if float(pr.weights) != 0 else 0), n_post


def spiking_network_workload(net: SpikingNetwork, inputs: dict, k, work: Workload, state=None) -> None:
    """Run ``net`` frozen on ``inputs`` (source name → spikes ``[T, B, n]``) on backend ``k`` from
    ``state`` (``None``: at rest) and tell ``work`` what it did: every projection's presynaptic
    spikes at every step, every population's spikes and membrane; ``B`` samples."""
    steps, batch = next(iter(inputs.values())).shape[:2]
    st = initial_state(net, k, batch) if state is None else state
    sizes = {s.name: s.size for s in (*net.sources, *net.populations)}
    fan = [_fan_out(pr, sizes[pr.pre], sizes[pr.post]) for pr in net.projections]
    ops = {p.name: neuron_ops(p.neuron) for p in net.populations}
    last: dict = dict.fromkeys(ops)
    for a in range(0, steps, TIME_CHUNK):
        chunk = {name: np.asarray(s[a : a + TIME_CHUNK]) for name, s in inputs.items()}
        st, rec = simulate(net, chunk, backend=k, state=st, learn=False, record=("spikes", "v"))
        spikes = {**chunk, **rec.spikes}
        for pr, (fan_out, n_out) in zip(net.projections, fan, strict=True):
            pre = spikes[pr.pre]
            work.fan_out_call(pre.reshape(-1, pre.shape[-1]), fan_out, n_out)
        for name, ops_per_update in ops.items():
            work.activation(name, rec.spikes[name])
            work.membranes(name, rec.v[name], last[name], ops_per_update)
            last[name] = rec.v[name][-1]
    work.add_samples(batch)


def diehl_cook_network(model: DiehlCookModel):
    """The trained Diehl & Cook network, frozen (thresholds fixed, exact reads)."""
    return build_network(model.net.cfg, model.net.weights, learning=False)


def diehl_cook_pass(model: DiehlCookModel, x, seed: int = 0) -> Evaluation:
    """Diehl & Cook on ``x``: each digit presented once at the base intensity (the protocol's
    re-presentations of silent digits aside) and the rest that follows, inputs from stream ``seed``."""
    dc, work = model.net, Workload()
    cfg = dc.cfg
    net = diehl_cook_network(model)
    rng = np.random.default_rng(np.random.SeedSequence([dc.seed, 3, int(seed)]))
    images = np.asarray(x, dtype=np.float64)
    for a in range(0, len(images), SPIKING_BATCH):
        chunk = images[a : a + SPIKING_BATCH]
        shown = dc._spikes(chunk, np.full((len(chunk), 1), cfg.intensity), rng)
        rest = np.zeros((cfg.steps_rest, len(chunk), dc.n_inputs), dtype=bool)
        spiking_network_workload(net, {INPUT: np.concatenate([shown, rest])}, dc.k, work, dc._state(net, len(chunk)))
    n, n_in = cfg.n_neurons, dc.n_inputs
    stored = [
        Stored("W", n * n_in, dc.weights.itemsize, True, dc.substrate is not None),
        Stored("w_exc_inh", 1, 8),
        Stored("w_inh_exc", 1, 8),
        Stored("theta", n, dc.theta.itemsize, parameter=False),
    ]
    matrices = [matrix("W", dc.weights), Matrix("exc->inh", n * n, n * n - n), Matrix("inh->exc", n * n, n)]
    bits, fmt = weight_bits(dc.substrate, 8 * dc.weights.itemsize)
    return Evaluation(work.results(), Structure(stored, matrices, bits, fmt))


# ---- the surrogate-gradient SNN -------------------------------------------------------------------
def snn_workload(layers, spikes, work: Workload) -> None:
    """Run the snnTorch stack ``layers`` (``(name, nn.Linear, name, snntorch.Leaky)`` per layer) on
    input spikes ``spikes[T, B, D]`` (a torch tensor) and tell ``work`` what it did: one call of
    every connection and neuron layer per time step, as NeuroBench's harness runs it."""
    torch = require("torch", "the surrogate-gradient SNN's evaluation pass")
    steps, batch = int(spikes.shape[0]), int(spikes.shape[1])
    with torch.no_grad():
        mems = [torch.zeros(batch, int(fc.out_features)) for _, fc, _, _ in layers]
        outs: list[list] = [[] for _ in layers]
        paths: list[list] = [[] for _ in layers]
        for t in range(steps):
            h = spikes[t].float()
            for i, (_, fc, _, lif) in enumerate(layers):
                work.connection(h, fc.weight)
                h, mems[i] = lif(fc(h), mems[i])
                outs[i].append(h)
                paths[i].append(mems[i])
        for (_, _, name, lif), out, path in zip(layers, outs, paths, strict=True):
            work.activation(name, torch.stack(out))
            work.membranes(name, torch.stack(path), None, NEURON_OPS[("Leaky", lif.reset_mechanism)])
    work.add_samples(batch)


def surrogate_layers(model: SurrogateModel) -> list:
    """The surrogate SNN's ``(name, nn.Linear, name, snntorch.Leaky)`` stack."""
    n = model.net
    return [("fc1", n.fc1, "lif1", n.lif1), ("fc2", n.fc2, "lif2", n.lif2)]


def module_structure(modules) -> list:
    """What torch modules hold, as NeuroBench's footprint counts it: every parameter and buffer,
    except the membranes an snnTorch neuron keeps between calls (its state, not the model)."""
    stored = []
    for name, mod in modules:
        for pname, p in mod.named_parameters():
            stored.append(Stored(f"{name}.{pname}", p.numel(), p.element_size()))
        for bname, b in mod.named_buffers():
            if bname != "mem":
                stored.append(Stored(f"{name}.{bname}", b.numel(), b.element_size(), parameter=False))
    return stored


def surrogate_pass(model: SurrogateModel, x, seed: int = 0) -> Evaluation:
    """The surrogate SNN on Poisson-coded ``x``, spike trains from stream ``seed``."""
    torch = require("torch", "the surrogate-gradient SNN's evaluation pass")
    net, work = model.net, Workload()
    rng = np.random.default_rng(np.random.SeedSequence([3, int(seed)]))
    layers = surrogate_layers(model)
    images = np.asarray(x, dtype=np.float64)
    for a in range(0, len(images), BATCH):
        chunk = images[a : a + BATCH]
        spikes = torch.as_tensor(rng.random((net.steps,) + chunk.shape, dtype=np.float32) < chunk * net.p_spike)
        snn_workload(layers, spikes, work)
    modules = [(fc_name, fc) for fc_name, fc, _, _ in layers] + [(lif_name, lif) for _, _, lif_name, lif in layers]
    stored = module_structure(modules)
    matrices = [matrix(f"{name}.weight", fc.weight.detach()) for name, fc, _, _ in layers]
    bits, fmt = weight_bits(None, 8 * net.fc1.weight.element_size())
    return Evaluation(work.results(), Structure(stored, matrices, bits, fmt))


# model class → its pass, looked up in order (a subclass of MLP takes the MLP's pass)
PASSES: tuple[tuple[type, Callable[..., Evaluation]], ...] = (
    (MLP, mlp_pass),
    (EPModel, ep_pass),
    (DaleModel, dale_pass),
    (DiehlCookModel, diehl_cook_pass),
    (SurrogateModel, surrogate_pass),
)


def evaluation_pass(model, x, seed: int = 0) -> Evaluation:
    """The :class:`Evaluation` of ``model`` on samples ``x[n, D]`` (host array), spike trains drawn
    from stream ``seed`` where the model codes its inputs in spikes."""
    for cls, run in PASSES:
        if isinstance(model, cls):
            return run(model, x, seed)
    kinds = ", ".join(cls.__name__ for cls, _ in PASSES)
    raise ConfigError(f"no evaluation pass for a {type(model).__name__} (model kinds with one: {kinds})")
