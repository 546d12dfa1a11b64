"""Energy estimates from operation counts: ``E = Σ_op count(op) · e(op)``.

The counts come from a spiking run (:func:`bioplast.dynamics.spiking.engine.operation_counts`:
spikes, synaptic events, neuron updates, weight writes); the per-operation
energies belong to a substrate's profile.  Every figure names its source or
says it is an assumption; a profile without figures gives no estimate rather
than a made-up one.
"""

from __future__ import annotations

from dataclasses import dataclass

from bioplast.errors import ConfigError
from bioplast.validate import positive

OPS = ("spikes", "synops", "neuron_updates", "weight_writes")


@dataclass(frozen=True)
class EnergyCosts:
    """Joules per operation, and where the numbers come from."""

    synop: float
    spike: float
    neuron_update: float
    weight_write: float
    sources: str

    def __post_init__(self):
        for name in ("synop", "spike", "neuron_update", "weight_write"):
            positive(f"energy per {name}", getattr(self, name), allow_zero=True)


def estimate_energy(ops: dict, costs: EnergyCosts | None) -> dict | None:
    """Energy per operation kind and in total (joules); ``None`` when the substrate has no figures."""
    if costs is None:
        return None
    missing = [op for op in OPS if op not in ops]
    if missing:
        raise ConfigError(f"operation counts lack {missing}; expected the keys {OPS}")
    parts = {
        "spikes": ops["spikes"] * costs.spike,
        "synops": ops["synops"] * costs.synop,
        "neuron_updates": ops["neuron_updates"] * costs.neuron_update,
        "weight_writes": ops["weight_writes"] * costs.weight_write,
    }
    return {**{f"{k}_J": v for k, v in parts.items()}, "total_J": sum(parts.values())}


def total_energy(ops: dict, costs: EnergyCosts | None) -> float:
    """The estimate's total in joules; NaN when the substrate has no figures (a results column)."""
    energy = estimate_energy(ops, costs)
    return float("nan") if energy is None else energy["total_J"]
