"""Rate networks to spiking ones (ANN→SNN conversion) and their NIR graphs."""

import numpy as np
import pytest

from bioplast.data import load_task
from bioplast.deploy.conversion import (
    convert_mlp,
    export_converted,
    import_converted,
    predict_converted,
    simulate_converted,
)
from bioplast.errors import ConfigError, DataError
from bioplast.testing import eps, tolerance, worst_case


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A backprop ReLU MLP 64-64-32-10 trained on digits (the independent reference: its forward pass)."""
    from bioplast.training import TrainConfig, train

    out = tmp_path_factory.mktemp("mlp")
    train(
        TrainConfig(task="digits", rule="backprop", hidden=(64, 32), epochs=8, lr=0.05, backend="numpy"),
        out=out,
        progress=False,
    )
    arrays = np.load(out / "weights.npz", allow_pickle=False)
    weights = [arrays[f"W{i}"] for i in range(3)]
    biases = [arrays[f"b{i}"] for i in range(3)]
    return weights, biases, load_task("digits", 0)


def _ann(weights, biases, x):
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        x = np.maximum(x @ w.T + b, 0.0)
    return x @ weights[-1].T + biases[-1]


def test_the_converted_network_classifies_like_the_mlp(trained):
    """Rueckauer et al.'s normalisation: after 300 steps the IF network agrees with the ReLU MLP on
    at least 95 % of the test digits and loses at most 3 points (measured: 1.00 agreement; 0.96 after
    10 steps).  Reset to zero, NIR's IF, loses the charge above threshold: measured 0.95 agreement."""
    weights, biases, data = trained
    conv = convert_mlp(weights, biases, data.x_train)
    ann = _ann(weights, biases, data.x_test).argmax(1)
    snn = predict_converted(conv, data.x_test, 300)
    ann_acc, snn_acc = np.mean(ann == data.y_test), np.mean(snn == data.y_test)
    assert ann_acc > 0.85
    assert np.mean(snn == ann) >= 0.95 and snn_acc >= ann_acc - 0.03
    # the longer it runs, the closer: a short run agrees less
    assert np.mean(predict_converted(conv, data.x_test, 10) == ann) < np.mean(snn == ann)
    zero = convert_mlp(weights, biases, data.x_train, reset="zero")
    assert np.mean(predict_converted(zero, data.x_test, 300) == ann) >= 0.9


def test_rates_are_the_normalised_activations(trained):
    """Layer 1 integrates a constant drive d: with subtractive reset its count after T steps is
    ⌈T d⌉ − 1 exactly (d in (0, 1]), 0 for d ≤ 0; deeper layers' rates follow a_l/λ_l to a few
    spikes' error."""
    weights, biases, data = trained
    conv = convert_mlp(weights, biases, data.x_train)
    x, T = data.x_test[:40], 1000
    _, counts = simulate_converted(conv, x, T)
    d = x @ conv.weights[0].T + conv.biases[0]
    # away from float ties: the count is ⌈T d⌉ − 1 unless T d lies within the run's rounding of an
    # integer — v gains d each step (one rounding, ≤ u|v| ≤ ε as |v| ≤ 2; subtracting 1.0 is exact by
    # Sterbenz), d is a 65-term sum here and there (tolerance(float64, 65) of Σ|x||W|), and T d rounds once
    size = np.abs(x) @ np.abs(conv.weights[0]).T + np.abs(conv.biases[0])
    band = T * (eps("float64") + tolerance("float64", 65) * size) + eps("float64") / 2 * T
    inside = (d > 0) & (d <= 1) & (np.abs(T * d - np.round(T * d)) > band)
    np.testing.assert_array_equal(counts[0][inside], np.ceil(T * d[inside]) - 1)
    assert np.all(counts[0][d <= 0] == 0)
    a2 = np.maximum(np.maximum(x @ weights[0].T + biases[0], 0) @ weights[1].T + biases[1], 0) / conv.scales[2]
    below = a2 < 0.9  # saturation at one spike per step aside
    assert np.abs(counts[1][below] / T - a2[below]).max() < 0.02  # conversion error O(1/T): measured 0.010


def test_nir_round_trip_and_graph_semantics(trained, tmp_path):
    import nir

    weights, biases, data = trained
    conv = convert_mlp(weights, biases, data.x_train, reset="zero")
    path = tmp_path / "converted.nir"
    graph = export_converted(conv, path)
    assert [type(graph.nodes[f"layer{i}"]).__name__ for i in range(3)] == ["IF", "IF", "I"]
    np.testing.assert_array_equal(graph.nodes["layer0"].r, 1 / conv.dt)  # the export's same 1.0/dt
    # a Dirac spike through the hidden Affine (W' dt) into r = 1/dt adds W' to the membrane; W'·dt/dt
    # rounds twice (float64 in the file), so it is W' to γ₂ relative — as are the reloaded weights
    assert np.all(
        np.abs(graph.nodes["affine1"].weight / conv.dt - conv.weights[1])
        <= worst_case("float64", 2) * np.abs(conv.weights[1])
    )
    back = import_converted(path)
    for a, b in zip(back.weights, conv.weights, strict=True):
        assert np.all(np.abs(a - b) <= worst_case("float64", 2) * np.abs(b))
    assert back.scales == conv.scales and back.reset == "zero"  # float64 metadata, read back unchanged
    np.testing.assert_array_equal(predict_converted(back, data.x_test, 100), predict_converted(conv, data.x_test, 100))
    assert isinstance(nir.read(path), nir.NIRGraph)


def test_bad_input_is_refused_by_name(trained, tmp_path):
    weights, biases, data = trained
    with pytest.raises(ConfigError, match="needs ReLU hidden units"):
        convert_mlp(weights, biases, data.x_train, activation="tanh")
    with pytest.raises(ConfigError, match="percentile must be in \\(0, 100\\]"):
        convert_mlp(weights, biases, data.x_train, percentile=0)
    with pytest.raises(DataError, match="layer 1 takes 64 inputs but layer 0 has 32"):
        convert_mlp([weights[0][:32], weights[1]], [biases[0][:32], biases[1]], data.x_train)
    with pytest.raises(DataError, match="x_calib must be"):
        convert_mlp(weights, biases, data.x_train[:, :10])
    with pytest.raises(ConfigError, match="reset='subtract' has no NIR form"):
        export_converted(convert_mlp(weights, biases, data.x_train), tmp_path / "x.nir")
    assert not (tmp_path / "x.nir").exists()
    bad = tmp_path / "garbage.nir"
    bad.write_bytes(b"not an hdf5 file")
    with pytest.raises(DataError, match="is not a readable NIR graph"):
        import_converted(bad)
    with pytest.raises(DataError, match="no NIR file"):
        import_converted(tmp_path / "missing.nir")
