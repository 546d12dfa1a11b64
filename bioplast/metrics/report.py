r"""A run's metrics as NeuroBench writes them, and as columns of bioplast's records.

:func:`neurobench_results` gives the dictionary NeuroBench's ``Benchmark.run`` returns — the same
keys, nesting and per-sample normalisation, so its tooling reads it — plus what NeuroBench does
not measure: ``FootprintBits`` and the learning metrics per training sample
(:mod:`~bioplast.metrics.learning`), with the per-run figures and the run's description under
``"bioplast"``.  :func:`record_columns` flattens the figures the results tables carry.
"""

from __future__ import annotations

import math

from bioplast.metrics.learning import learning_totals, per_sample
from bioplast.metrics.passes import Evaluation, evaluation_pass
from bioplast.metrics.static import static_metrics

EVAL_SAMPLES = 64  # test samples of a run's evaluation pass (the workload figures are per sample)

# the results tables' columns (training records, results.csv), in this order
COLUMNS = (
    "effective_synops",
    "dense_synops",
    "activation_sparsity",
    "footprint_bytes",
    "footprint_bits",
    "plasticity_ops",
    "trace_updates",
    "weight_writes",
    "bits_written",
    "learning_energy_J",
)


def neurobench_results(evaluation: Evaluation, accuracy: float, ops: dict, samples: int, about: dict) -> dict:
    """The NeuroBench-format results of a run: its evaluation pass, test ``accuracy``, the summed
    operation counts ``ops`` of training on ``samples`` samples; ``about`` (model kind, backend,
    substrate, energy costs as ``about["costs"]``) describes it."""
    s = evaluation.structure
    totals = learning_totals(ops, s.weight_bits, about.get("costs"))
    described = {k: v for k, v in about.items() if k != "costs"}
    return {
        **static_metrics(s),
        "ClassificationAccuracy": accuracy,
        **evaluation.workload,
        **per_sample(totals, samples),
        "bioplast": {
            **described,
            "weight_format": s.weight_format,
            "weight_bits": s.weight_bits,
            "training_samples": samples,
            "per_run": totals,
            "normalisation": "workload metrics per evaluation sample; learning metrics per training sample",
        },
    }


def record_columns(results: dict) -> dict:
    """The :data:`COLUMNS` of :func:`neurobench_results` (learning figures per run; NaN where undefined)."""
    synops = results["SynapticOperations"]
    run = results["bioplast"]["per_run"]
    energy = run["LearningEnergy"]["Joules"]
    return {
        "effective_synops": synops["Effective_MACs"] + synops["Effective_ACs"],
        "dense_synops": synops["Dense"],
        "activation_sparsity": results["ActivationSparsity"],
        "footprint_bytes": results["Footprint"],
        "footprint_bits": results["FootprintBits"],
        "plasticity_ops": run["PlasticityOperations"]["Effective"],
        "trace_updates": run["TraceUpdates"],
        "weight_writes": run["WeightWrites"]["Writes"],
        "bits_written": run["WeightWrites"]["Bits"],
        "learning_energy_J": math.nan if energy is None else energy,
    }


def measure_run(model, x_eval, accuracy: float, ops: dict, samples: int, about: dict, seed: int = 0) -> dict:
    """:func:`neurobench_results` of ``model`` after training on ``samples`` samples with summed
    operation counts ``ops``: its evaluation pass on ``x_eval`` (spike trains from stream ``seed``)."""
    return neurobench_results(evaluation_pass(model, x_eval, seed), accuracy, ops, samples, about)
