r"""NeuroBench's workload metrics, accumulated over a model's evaluation pass.

A :class:`Workload` is told what the pass did, call by call, and gives the figures under
NeuroBench's names and nesting (Yik et al., Nat. Commun. 16:1545, 2025; ``neurobench`` 2.3):

* ``SynapticOperations``: ``{"Effective_MACs", "Effective_ACs", "Dense"}`` per sample — the
  sums of :mod:`~bioplast.metrics.counting`'s effective and dense operations over every call of
  every connection layer, divided by the samples.
* ``ActivationSparsity``: ``1 − Σ nnz(a) / Σ size(a)`` over the outputs ``a`` of every neuron layer at
  every call (time step) and sample; ``ActivationSparsityByLayer``: the same per layer.
* ``MembraneUpdates``: per sample, ``Σ_layers [size(v_1) + Σ_{t≥2} nnz(v_t − v_{t−1})]`` for the
  membrane potentials ``v_t`` after each call of a layer with a membrane (a pass's first update
  counts every neuron, later ones only where the membrane changed); 0 for a layer without one.
* ``NeuronOperations``: ``{"Effective Neuron Ops", "Neuron Dense Ops"}`` per sample — membrane
  updates, and every neuron at every call, times the operations one update costs
  (:data:`NEURON_OPS`); only for layers whose neuron model has a figure.

NeuroBench's ``ActivationSparsity`` averages each batch's sparsity weighted by its size; that is the
pooled ratio above whenever every batch runs the same number of time steps (the rounding differs
in the last bits).
"""

from __future__ import annotations

from collections import defaultdict

from bioplast.metrics.counting import changes, column_fan_out, fan_out_operations, is_binary, nonzero, size

# basic operations of one membrane update, NeuroBench's table (neurobench.metrics.workload.neuron_operations)
# by snnTorch neuron and reset mechanism; bioplast's current-based LIF with instantaneous synapses is
# snnTorch's Leaky (bioplast.dynamics.spiking.neurons.from_snntorch), with a synaptic current its Synaptic
NEURON_OPS = {
    ("Leaky", "subtract"): 4,
    ("Leaky", "zero"): 4,
    ("Synaptic", "subtract"): 6,
    ("Synaptic", "zero"): 8,
}


class Workload:
    """The running sums of one evaluation pass (see the module docstring for the formulas)."""

    def __init__(self) -> None:
        self.samples = 0
        self.macs = 0
        self.acs = 0
        self.dense = 0
        self.active: defaultdict[str, int] = defaultdict(int)
        self.activations: defaultdict[str, int] = defaultdict(int)
        self.membrane: defaultdict[str, int] = defaultdict(int)
        self.neuron_ops = [0, 0]  # effective, dense
        self.has_neuron_ops = False

    def add_samples(self, n: int) -> None:
        """``n`` more samples went through the pass (the figures are per sample)."""
        self.samples += int(n)

    def connection(self, x, w) -> None:
        """One call of a connection layer: inputs ``x[B, n_in]``, weights ``w[n_out, n_in]``."""
        self.fan_out_call(x, column_fan_out(w), int(w.shape[0]))

    def fan_out_call(self, x, fan_out, n_out: int) -> None:
        """One call of a connection whose input ``j`` reaches ``fan_out[j]`` of its ``n_out`` targets
        through a non-zero weight (a one-to-one projection: 1 each), as a matrix ``[n_out, n_in]``."""
        effective = fan_out_operations(x, fan_out)
        if is_binary(x):
            self.acs += effective
        else:
            self.macs += effective
        self.dense += int(x.shape[0]) * int(x.shape[1]) * int(n_out)

    def activation(self, layer: str, out) -> None:
        """The outputs ``out`` of neuron layer ``layer`` at one or more calls (any shape)."""
        self.active[layer] += nonzero(out)
        self.activations[layer] += size(out)

    def membranes(self, layer: str, trajectory, before=None, ops_per_update: int | None = None) -> None:
        """The membrane potentials ``trajectory[T, B, n]`` of ``layer`` after each of ``T`` calls;
        ``before``: the potentials before the first of them when these calls continue a pass (``None``:
        they start it, and the first update counts every neuron).  ``ops_per_update``: operations of
        one update (:data:`NEURON_OPS`), ``None`` when the neuron model has no figure."""
        steps = int(trajectory.shape[0])
        if steps == 0:
            return
        if before is None:
            updates = size(trajectory[0]) + changes(trajectory[:-1], trajectory[1:])
        else:
            updates = changes(before[None], trajectory[:1]) + changes(trajectory[:-1], trajectory[1:])
        self.membrane[layer] += updates
        if ops_per_update is not None:
            self.has_neuron_ops = True
            self.neuron_ops[0] += updates * ops_per_update
            self.neuron_ops[1] += size(trajectory) * ops_per_update

    def no_membrane(self, layer: str) -> None:
        """A neuron layer without a membrane (a rate neuron of a feed-forward pass): no updates."""
        self.membrane[layer] += 0

    def results(self) -> dict:
        """The figures under NeuroBench's names (per sample; sparsities are fractions)."""
        n = self.samples
        total, active = sum(self.activations.values()), sum(self.active.values())
        out: dict = {
            "ActivationSparsity": (total - active) / total if total else 0.0,
            "ActivationSparsityByLayer": {
                name: (t - self.active[name]) / t if t else 0.0 for name, t in self.activations.items()
            },
            "SynapticOperations": {
                "Effective_MACs": self.macs / n if n else 0,
                "Effective_ACs": self.acs / n if n else 0,
                "Dense": self.dense / n if n else 0,
            },
            "MembraneUpdates": sum(self.membrane.values()) / n if n else 0,
        }
        if self.has_neuron_ops:
            out["NeuronOperations"] = {
                "Effective Neuron Ops": self.neuron_ops[0] / n if n else 0,
                "Neuron Dense Ops": self.neuron_ops[1] / n if n else 0,
            }
        return out
