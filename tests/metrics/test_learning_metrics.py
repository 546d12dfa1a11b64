"""The cost of learning: exact counts of tiny Diehl & Cook and EP runs, and the NeuroBench-format JSON
each run writes (its figures per training sample are the per-run ones divided by the samples)."""

import json
import math

import numpy as np

from bioplast.data import Dataset, load_task
from bioplast.hardware import get_substrate
from bioplast.metrics import learning_totals, per_sample, weight_bits
from bioplast.models.base import outer_product_counts
from bioplast.models.diehl_cook import DiehlCookConfig
from bioplast.training import RECORD_COLUMNS, SpikingConfig, TrainConfig, train

NEUROBENCH_KEYS = {
    "Footprint",
    "ParameterCount",
    "ConnectionSparsity",
    "ClassificationAccuracy",
    "ActivationSparsity",
    "ActivationSparsityByLayer",
    "SynapticOperations",
    "MembraneUpdates",
}
LEARNING_KEYS = {"PlasticityOperations", "TraceUpdates", "WeightWrites", "LearningEnergy"}


def _check_per_sample(results):
    run, n = results["bioplast"]["per_run"], results["bioplast"]["training_samples"]
    assert results["PlasticityOperations"]["Dense"] == run["PlasticityOperations"]["Dense"] / n
    assert results["WeightWrites"]["Bits"] == run["WeightWrites"]["Bits"] / n
    assert results["LearningEnergy"]["estimate"] is True


def test_outer_product_counts_against_brute_force():
    rng = np.random.default_rng(0)
    pre = rng.normal(size=(3, 4)) * (rng.random((3, 4)) < 0.5)
    post = rng.normal(size=(3, 5)) * (rng.random((3, 5)) < 0.5)
    brute = sum(int(pre[b, j] != 0 and post[b, i] != 0) for b in range(3) for i in range(5) for j in range(4))
    assert outer_product_counts([(pre, post), (pre, post)]) == (2 * 3 * 4 * 5, 2 * brute)


def test_weight_formats_of_the_presets():
    assert weight_bits(get_substrate("loihi2-like"), 32) == (8, "8-bit")
    assert weight_bits(get_substrate("brainscales2-like"), 32)[0] == 12  # a signed weight on two 6-bit rows
    assert weight_bits(get_substrate("pcm-crossbar"), 32)[0] == 32  # analog: counted as simulated
    assert weight_bits(None, 64)[0] == 64
    totals = learning_totals(
        {"plasticity_dense": 10, "plasticity_effective": 4, "trace_updates": 6, "weight_writes": 3},
        8,
        get_substrate("loihi2-like").energy,
    )
    costs = get_substrate("loihi2-like").energy
    assert totals["WeightWrites"] == {"Writes": 3, "Bits": 24}
    assert totals["LearningEnergy"]["Joules"] == 4 * costs.synop + 6 * costs.neuron_update + 3 * costs.weight_write
    zeros = dict.fromkeys(("plasticity_dense", "plasticity_effective", "trace_updates", "weight_writes"), 0)
    assert learning_totals(zeros, 8, None)["LearningEnergy"]["Joules"] is None  # no figures: no estimate
    assert per_sample(totals, 2)["TraceUpdates"] == 3


def tiny_digits() -> Dataset:
    """Four training and eight test digits: Diehl & Cook's evaluation simulates every test digit."""
    d = load_task("digits", 0)
    return Dataset("tiny digits", d.x_train[:4], d.y_train[:4], d.x_test[:8], d.y_test[:8], d.n_classes)


def test_a_diehl_cook_run_writes_neurobench_json_with_learning_metrics(tmp_path):
    cfg = SpikingConfig("diehl_cook", task=tiny_digits(), n_neurons=6, train_samples=2, epochs=1, backend="numba")
    records = train(cfg, tmp_path, progress=False)
    results = json.loads((tmp_path / "neurobench.json").read_text())
    assert NEUROBENCH_KEYS | LEARNING_KEYS | {"FootprintBits", "bioplast"} <= set(results)
    assert set(results["SynapticOperations"]) == {"Effective_MACs", "Effective_ACs", "Dense"}
    assert set(results["ActivationSparsityByLayer"]) == {"exc", "inh"}
    run = results["bioplast"]["per_run"]
    # exact counts of the clock-driven rule: 64 inputs × 6 neurons, (350 + 150) ms at 0.5 ms, every
    # digit shown at least once (re-presentations add whole presentations)
    dc = DiehlCookConfig()
    steps = dc.steps_present + dc.steps_rest
    presentations = run["TraceUpdates"] / ((2 * 64 + 2 * 6) * steps)
    assert presentations == int(presentations) >= 2
    assert run["PlasticityOperations"]["Dense"] == 2 * 64 * 6 * steps * presentations
    assert 0 < run["PlasticityOperations"]["Effective"] < run["PlasticityOperations"]["Dense"]
    assert run["WeightWrites"]["Bits"] == 64 * run["WeightWrites"]["Writes"]  # float64 weights on ideal
    assert run["LearningEnergy"]["Joules"] > 0  # priced with the loihi2-like figures
    _check_per_sample(results)
    last = records[-1]
    assert list(last) == RECORD_COLUMNS
    assert last["plasticity_ops"] == run["PlasticityOperations"]["Effective"]
    assert last["effective_synops"] == results["SynapticOperations"]["Effective_ACs"]


def test_an_ep_run_writes_neurobench_json_with_exact_plasticity_counts(tmp_path):
    cfg = TrainConfig("eqprop", hidden=(8,), epochs=1, batch_size=64, rule_params={"free_steps": 5})
    records = train(cfg, tmp_path, progress=False)
    results = json.loads((tmp_path / "neurobench.json").read_text())
    assert NEUROBENCH_KEYS | LEARNING_KEYS <= set(results)
    run, n = results["bioplast"]["per_run"], results["bioplast"]["training_samples"]
    # a contrast multiplies two phases per matrix and sample (free and nudged, or the nudges ±β)
    assert run["PlasticityOperations"]["Dense"] == n * 2 * (64 * 8 + 8 * 10)
    assert 0 < run["PlasticityOperations"]["Effective"] < run["PlasticityOperations"]["Dense"]  # zero pixels
    assert run["TraceUpdates"] == 0
    assert run["WeightWrites"]["Writes"] > 0 and run["WeightWrites"]["Bits"] == 32 * run["WeightWrites"]["Writes"]
    assert results["MembraneUpdates"] > 0  # EP's states relax: they are updated every step
    assert results["SynapticOperations"]["Effective_MACs"] > 0
    _check_per_sample(results)
    assert not math.isnan(records[-1]["learning_energy_J"])  # the ideal substrate's float32 figures
