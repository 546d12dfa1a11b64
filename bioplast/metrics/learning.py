r"""What learning costs — the metrics NeuroBench does not have, in its style.

From the operation counts a run's steps report (:data:`bioplast.models.base.LEARNING_OPS` and the
weight writes of :data:`bioplast.hardware.energy.OPS`), summed over ``N`` training samples:

* ``PlasticityOperations``: ``{"Dense", "Effective"}`` — the synapse-update products the rule
  computes: dense as if every operand were non-zero (an outer-product rule: one product per sample
  and plastic synapse, ``Σ_steps B·S``; STDP: both of its terms at every synapse every time step),
  effective those with non-zero operands (``Σ_b nnz(pre_b)·nnz(post_b)``; STDP: ``n_post`` per
  presynaptic spike plus ``n_pre`` per postsynaptic spike).  Rules whose operands the model does not
  see (autograd's backprop, zeroth-order probes) count every product as effective.
* ``TraceUpdates``: updates of the rule's per-neuron traces (STDP's ``r₁, r₂`` per input and
  ``o₁, o₂`` per neuron, every step); 0 for rules without traces.
* ``WeightWrites``: ``{"Writes", "Bits"}`` — synapses written (``bits = writes · b``, ``b`` the bits
  of a weight at the substrate's format, :func:`~bioplast.metrics.static.weight_bits`).
* ``LearningEnergy``: an **estimate** ``E = e_syn·P_eff + e_neuron·U_trace + e_write·W`` from the
  substrate's per-operation energies (:class:`~bioplast.hardware.energy.EnergyCosts`), pricing a
  plasticity product as a synaptic operation and a trace update as a neuron update (assumptions,
  like every figure of a simulated system); ``None`` when the substrate has no figures.

Each is given per run and per training sample (÷ ``N``).
"""

from __future__ import annotations

import math

from bioplast.errors import ConfigError
from bioplast.models.base import LEARNING_OPS

LEARNING_METRICS = ("PlasticityOperations", "TraceUpdates", "WeightWrites", "LearningEnergy")


def learning_energy(ops: dict, costs) -> float:
    """The estimate ``e_syn·P_eff + e_neuron·U_trace + e_write·W`` in joules; NaN without figures."""
    if costs is None:
        return math.nan
    return (
        ops.get("plasticity_effective", 0) * costs.synop
        + ops.get("trace_updates", 0) * costs.neuron_update
        + ops.get("weight_writes", 0) * costs.weight_write
    )


def learning_totals(ops: dict, weight_bits: int, costs) -> dict:
    """The learning metrics of a run whose summed operation counts are ``ops`` (module docstring)."""
    missing = [name for name in (*LEARNING_OPS, "weight_writes") if name not in ops]
    if missing:
        raise ConfigError(f"operation counts lack {missing}; a model's steps report {(*LEARNING_OPS, 'weight_writes')}")
    energy = learning_energy(ops, costs)
    return {
        "PlasticityOperations": {"Dense": ops["plasticity_dense"], "Effective": ops["plasticity_effective"]},
        "TraceUpdates": ops["trace_updates"],
        "WeightWrites": {"Writes": ops["weight_writes"], "Bits": ops["weight_writes"] * int(weight_bits)},
        "LearningEnergy": {
            "Joules": None if math.isnan(energy) else energy,
            "estimate": True,
            "sources": None if costs is None else costs.sources,
        },
    }


def per_sample(totals: dict, samples: int) -> dict:
    """``totals`` (:func:`learning_totals`) divided by the ``samples`` trained on (numbers only)."""
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 0:
        raise ConfigError(f"training samples must be an integer >= 0, got {samples!r}")

    def divide(value):
        if isinstance(value, dict):
            return {key: divide(v) if key not in ("estimate", "sources") else v for key, v in value.items()}
        if value is None or samples == 0:
            return None
        return value / samples

    return {name: divide(value) for name, value in totals.items()}
