"""The one Model protocol every model kind implements, and the registry that builds them.

A model is a network, one :class:`~bioplast.core.Plasticity` per plastic matrix and a
:class:`~bioplast.hardware.chip.Chip`.  The training loop (:mod:`bioplast.training.loop`) knows
models only through :class:`Model`; measurements (alignment with backprop, operation and
energy counts) are taken by the loop and :mod:`bioplast.analysis` through the same protocol, so
no model imports an analysis or an oracle.

A new model kind registers a builder ``build(cfg, k, data) -> Model`` under a name
(:func:`register_model`); :func:`build_model` looks it up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from bioplast.errors import ConfigError
from bioplast.plugins import Registry

if TYPE_CHECKING:
    from bioplast.backends.base import Backend


class Step(NamedTuple):
    """What one training batch did: its loss (NaN for rules that minimise none) and operation
    counts (:data:`bioplast.hardware.energy.OPS`: synaptic operations, neuron updates, spikes or graded messages, weight
    writes; :data:`LEARNING_OPS`: what the plasticity itself did), which the loop sums and prices."""

    loss: float
    ops: dict


class Directions(NamedTuple):
    """A rule's update direction on a batch (before optimiser and devices), one array per plastic
    matrix, beside ``−∇L`` for the same matrices where the model can compute it exactly
    (``gradient``; ``None``: an analysis takes it from an independent oracle)."""

    estimate: list
    gradient: list | None


class Plan(NamedTuple):
    """How the loop feeds a model: ``batch_size`` samples a step (``None``: the whole epoch in one
    step, for online models that sweep their data themselves), shuffled or in order, at most
    ``samples`` training samples an epoch (``None``: all); ``has_loss``: whether the rule minimises
    a loss (a non-finite loss is then a divergence; rules that minimise none log NaN)."""

    batch_size: int | None
    shuffle: bool = True
    samples: int | None = None
    has_loss: bool = True


@runtime_checkable
class Model(Protocol):
    """What the training loop needs of a model.

    ``train_batch(x, target) -> Step``; ``accuracies(data) -> (train, test)``; ``state()`` is
    everything training changes (a tree for :mod:`bioplast.training.checkpoints`) and
    ``load_state`` its inverse; ``arrays()`` the parameters for ``weights.npz``;
    ``parameters()`` the arrays checked for divergence; ``directions(x, target)`` the rule's
    directions for alignment measurements (``None``: the rule follows no loss's gradient)."""

    kind: str
    plan: Plan
    sizes: list

    def train_batch(self, x, target) -> Step: ...

    def accuracies(self, data) -> tuple: ...

    def state(self) -> Any: ...

    def load_state(self, state) -> None: ...

    def arrays(self) -> dict: ...

    def parameters(self) -> list: ...

    def directions(self, x, target) -> Directions | None: ...


# what the plasticity itself did in a step (bioplast.metrics.learning turns them into metrics):
# * plasticity_dense: synapse-update products if every operand were non-zero — one per sample and
#   plastic synapse for a rule that averages outer products over the batch;
# * plasticity_effective: those whose operands are both non-zero (the updates actually computed);
# * trace_updates: updates of the rule's per-neuron traces (STDP's presynaptic and postsynaptic traces)
LEARNING_OPS = ("plasticity_dense", "plasticity_effective", "trace_updates")


def outer_product_counts(pairs) -> tuple[int, int]:
    """``(dense, effective)`` products of the batch outer products ``Σ_b f_b ⊗ p_b`` of ``pairs`` of
    ``(p[B, n_pre], f[B, n_post])`` backend arrays:

        dense     = Σ_pairs B · n_post · n_pre
        effective = Σ_pairs Σ_b nnz(p_b) · nnz(f_b)

    (a product with a zero operand is skipped by an event-driven or sparse update, as NeuroBench's
    effective operations skip zero activations)."""
    dense = effective = 0
    for pre, factor in pairs:
        dense += int(pre.shape[0]) * int(pre.shape[1]) * int(factor.shape[1])
        effective += int(((pre != 0).sum(1) * (factor != 0).sum(1)).sum())
    return dense, effective


def rule_factor(rule, signals):
    """The postsynaptic factor a one-phase rule multiplies with ``pre``: ``mod`` when it reads one
    (backprop, the delta rule), else ``post`` (Hebbian rules)."""
    return signals.mod if "mod" in rule.spec.reads and signals.mod is not None else signals.post


def rate_ops(
    synops: int, neuron_updates: int, weight_writes: int, batch: int, plasticity: tuple[int, int] | None = None
) -> dict:
    """One batch's operation counts of a rate network from its per-sample figures: a rate neuron
    sends its graded output once per update (Loihi 2's graded spikes), so ``spikes`` equals the
    neuron updates; every plastic synapse is written once per step.  ``plasticity``: the step's
    ``(dense, effective)`` update products (:func:`outer_product_counts`); ``None``: one product per
    sample and plastic synapse, all counted effective (rules whose operands the model does not see,
    such as autograd's)."""
    dense, effective = plasticity if plasticity is not None else (batch * weight_writes, batch * weight_writes)
    return {
        "synops": batch * synops,
        "neuron_updates": batch * neuron_updates,
        "spikes": batch * neuron_updates,
        "weight_writes": weight_writes,
        "plasticity_dense": dense,
        "plasticity_effective": effective,
        "trace_updates": 0,
    }


def predicted_accuracy(model, k, x, y, batch: int = 1000) -> float:
    """The share of ``x`` whose ``argmax predict(x)`` is ``y``, in batches (rate models)."""
    correct = 0
    for i in range(0, len(x), batch):
        out = k.to_numpy(model.predict(k.asarray(x[i : i + batch])))
        correct += int((out.argmax(1) == y[i : i + batch]).sum())
    return correct / max(len(x), 1)


class RateModel:
    """What every rate model shares: accuracy by ``argmax predict``, the batch's operation counts
    from per-sample figures (``synops_per_sample``, ``neuron_updates_per_sample``,
    ``plastic_synapses``), shuffled minibatches of the configured size."""

    kind = "rate"
    k: Backend
    synops_per_sample: int
    neuron_updates_per_sample: int
    plastic_synapses: int

    def accuracies(self, data) -> tuple:
        return (
            predicted_accuracy(self, self.k, data.x_train, data.y_train),
            predicted_accuracy(self, self.k, data.x_test, data.y_test),
        )

    def ops(self, batch: int, plasticity: tuple[int, int] | None = None) -> dict:
        return rate_ops(
            self.synops_per_sample, self.neuron_updates_per_sample, self.plastic_synapses, batch, plasticity
        )


Builder = Callable[..., Model]
MODELS: dict[str, Builder] = {}


def _as_builder(obj, label: str):
    if callable(obj):
        return obj
    raise ConfigError(f"{label} is a {type(obj).__name__}; expected a builder (cfg, k, data) -> Model")


REGISTRY = Registry("model kind", MODELS, _as_builder)


def register_model(name: str, builder: Builder | None = None):
    """Register ``builder(cfg, k, data) -> Model`` under ``name`` (usable as a decorator)."""

    def add(b):
        if name in MODELS and MODELS[name] is not b:
            raise ConfigError(f"model kind {name!r} is registered twice")
        MODELS[name] = b
        return b

    return add if builder is None else add(builder)


def build_model(kind: str, cfg, k, data) -> Model:
    """The model of kind ``kind`` (built-in, an installed ``bioplast.models`` plugin, or a
    ``package.module:builder`` reference) for configuration ``cfg`` on backend ``k`` and dataset
    ``data``."""
    model = REGISTRY.get(kind)(cfg, k, data)
    if not isinstance(model, Model):
        missing = [
            m
            for m in (
                "train_batch",
                "accuracies",
                "state",
                "load_state",
                "arrays",
                "parameters",
                "directions",
                "plan",
                "sizes",
                "kind",
            )
            if not hasattr(model, m)
        ]
        raise ConfigError(
            f"model kind {kind!r} built a {type(model).__name__}, which is not a bioplast Model "
            f"(it lacks {missing}; see bioplast.models.base.Model)"
        )
    return model
