"""Metrics: NeuroBench's, computed natively on every backend for every model kind, and the cost of learning.

NeuroBench (Yik et al., "The neurobench framework for benchmarking neuromorphic computing algorithms
and systems", Nat. Commun. 16:1545, 2025) compares neuromorphic systems on inference.  This package
gives its metrics under their names and nesting, from a model's evaluation pass:

* static (:mod:`~bioplast.metrics.static`): ``Footprint`` (bytes) and ``FootprintBits`` (at the
  substrate's weight format), ``ParameterCount``, ``ConnectionSparsity``;
* workload (:mod:`~bioplast.metrics.workload`, counting rules in :mod:`~bioplast.metrics.counting`):
  ``ActivationSparsity`` (and by layer), ``SynapticOperations`` (``Effective_MACs``,
  ``Effective_ACs``, ``Dense``), ``MembraneUpdates``, ``NeuronOperations``;

and what NeuroBench does not measure (:mod:`~bioplast.metrics.learning`): ``PlasticityOperations``,
``TraceUpdates``, ``WeightWrites`` and an estimated ``LearningEnergy``, per training sample and per
run.  :mod:`~bioplast.metrics.passes` runs each model kind's evaluation pass;
:mod:`~bioplast.metrics.report` writes the NeuroBench-format results; :mod:`~bioplast.metrics.crosscheck`
runs NeuroBench itself on torch networks (the optional ``neurobench`` package).
"""

from bioplast.metrics.learning import LEARNING_METRICS, learning_totals, per_sample
from bioplast.metrics.passes import Evaluation, evaluation_pass
from bioplast.metrics.report import COLUMNS, EVAL_SAMPLES, measure_run, neurobench_results, record_columns
from bioplast.metrics.static import Structure, static_metrics, weight_bits
from bioplast.metrics.workload import NEURON_OPS, Workload

__all__ = [
    "COLUMNS",
    "EVAL_SAMPLES",
    "Evaluation",
    "LEARNING_METRICS",
    "NEURON_OPS",
    "Structure",
    "Workload",
    "evaluation_pass",
    "learning_totals",
    "measure_run",
    "neurobench_results",
    "per_sample",
    "record_columns",
    "static_metrics",
    "weight_bits",
]
