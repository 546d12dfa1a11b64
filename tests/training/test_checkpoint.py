"""Checkpoints: exact resume, divergence keeps the last good one (faults: test_checkpoint_faults.py)."""

import json

import numpy as np
import pytest

from bioplast import DivergenceError
from bioplast.testing import assert_close
from bioplast.training import TrainConfig, checkpoints, train

CASES = [
    ("numpy", "backprop", dict(optimizer="adam", lr=1e-3)),
    ("numba", "eqprop", dict(optimizer="adam", lr=1e-3, rule_params={"estimator": "random_sign"})),
    ("numba", "backprop", dict(network="dann")),
    ("numba", "bcm", {}),
    # probe streams, the running baseline and the read counter of a noisy substrate resume exactly
    ("numpy", "node_perturbation", dict(substrate="pcm-crossbar", rule_params={"estimator": "running"})),
    ("numpy", "weight_perturbation", dict(substrate="loihi2-like", rule_params={"probes": 2})),
]


def _epoch(folder) -> int:
    return checkpoints.read(folder)[0]["meta"]["epoch"]


def _weights(folder):
    with np.load(folder / "weights.npz", allow_pickle=False) as f:
        return {n: f[n] for n in f.files}


@pytest.mark.parametrize("backend,rule,extra", CASES)
def test_resume_reproduces_the_uninterrupted_run_bit_for_bit(tmp_path, backend, rule, extra):
    cfg = dict(rule=rule, task="digits", backend=backend, **extra)
    full = train(TrainConfig(epochs=3, **cfg), out=tmp_path / "a", progress=False)
    train(TrainConfig(epochs=1, **cfg), out=tmp_path / "b", progress=False)
    resumed = train(TrainConfig(epochs=3, **cfg), out=tmp_path / "b", progress=False)
    keys = ("epoch", "loss", "train_acc", "test_acc", "synops")
    assert [[r[k] for k in keys] for r in full[1:]] == [[r[k] for k in keys] for r in resumed[1:]]
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert all(np.array_equal(a[n], b[n]) for n in a)


def test_ctrl_c_mid_epoch_then_resume_is_exact(tmp_path, monkeypatch):
    from bioplast.models.mlp import MLP as _Model

    cfg = dict(rule="backprop", task="digits", backend="numpy", optimizer="adam", lr=1e-3)
    full = train(TrainConfig(epochs=3, **cfg), out=tmp_path / "a", progress=False)
    original, calls = _Model.train_batch, {"n": 0}

    def interrupted(self, x, t):
        calls["n"] += 1
        if calls["n"] == 80:  # inside epoch 2 (45 batches per epoch)
            raise KeyboardInterrupt
        return original(self, x, t)

    monkeypatch.setattr(_Model, "train_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig(epochs=3, **cfg), out=tmp_path / "b", progress=False)
    assert _epoch(tmp_path / "b") == 1
    monkeypatch.setattr(_Model, "train_batch", original)
    resumed = train(TrainConfig(epochs=3, **cfg), out=tmp_path / "b", progress=False)
    assert [r["test_acc"] for r in resumed] == [r["test_acc"] for r in full]
    assert not list((tmp_path / "b").glob(".*.tmp"))


def test_torch_resume_matches_within_float_tolerance(tmp_path):
    cfg = dict(rule="backprop", task="digits", backend="torch", optimizer="adam", lr=1e-3)
    train(TrainConfig(epochs=2, **cfg), out=tmp_path / "a", progress=False)
    train(TrainConfig(epochs=1, **cfg), out=tmp_path / "b", progress=False)
    train(TrainConfig(epochs=2, **cfg), out=tmp_path / "b", progress=False)
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    # torch's CPU kernels (MKL) may round a product otherwise for differently aligned or threaded
    # work, so the resumed epoch need not repeat the straight one's rounding: each float32 weight is its
    # epoch-1 value plus 45 Adam steps of 32-sample batch sums of products with 64-term drives — one
    # reduction of 45·32·64 terms, random-walk tolerance relative to the weights' size (Adam's step is
    # scale-free in the gradient; no amplification of rounding within one epoch)
    for n in a:
        assert_close(b[n], a[n], dtype="float32", reduction=45 * 32 * 64, what=n)


def test_divergence_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    from bioplast.models.mlp import MLP as _Model

    cfg = TrainConfig(rule="backprop", task="digits", backend="numpy", epochs=3, hidden=(16,))
    original, calls = _Model.train_batch, {"n": 0}

    def poisoned(self, x, t):
        calls["n"] += 1
        step = original(self, x, t)
        return step._replace(loss=float("nan")) if calls["n"] > 50 else step  # epoch 2 goes non-finite

    monkeypatch.setattr(_Model, "train_batch", poisoned)
    message = (
        r"non-finite loss in epoch 2 from step 51 \(batch 6 of 45, phase: training; "
        r"non-finite weights: none yet\); "
        r"the last good checkpoint \(epoch 1\)"
    )
    with pytest.raises(DivergenceError, match=message):
        train(cfg, out=tmp_path, progress=False)
    assert _epoch(tmp_path) == 1
    assert [r["epoch"] for r in json.loads((tmp_path / "metrics.json").read_text())] == [0, 1]


def test_divergence_names_the_layer_whose_weights_went_non_finite(tmp_path, monkeypatch):
    from bioplast.models.mlp import MLP as _Model

    cfg = TrainConfig(rule="backprop", task="digits", backend="numpy", epochs=2, hidden=(16,))
    original, calls = _Model.train_batch, {"n": 0}

    def poisoned(self, x, t):
        calls["n"] += 1
        step = original(self, x, t)
        if calls["n"] == 90:  # epoch 2's last batch: the output weights blow up after its loss was taken
            self.params.weights[1][0, 0] = np.inf
        return step

    monkeypatch.setattr(_Model, "train_batch", poisoned)
    with pytest.raises(DivergenceError, match=r"non-finite weights in W2 \(into the output\) after epoch 2"):
        train(cfg, out=tmp_path, progress=False)
