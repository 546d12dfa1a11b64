"""Checkpoints: exact resume, refusal of foreign or damaged files, divergence keeps the last good one."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioplast import DataError, DivergenceError
from bioplast.testing import assert_close
from bioplast.training import TrainConfig, train

CASES = [
    ("numpy", "backprop", dict(optimizer="adam", lr=1e-3)),
    ("numba", "eqprop", dict(optimizer="adam", lr=1e-3, rule_params={"estimator": "random_sign"})),
    ("numba", "backprop", dict(network="dann")),
    ("numba", "bcm", {}),
    # probe streams, the running baseline and the read counter of a noisy substrate resume exactly
    ("numpy", "node_perturbation", dict(substrate="pcm-crossbar", rule_params={"estimator": "running"})),
    ("numpy", "weight_perturbation", dict(substrate="loihi2-like", rule_params={"probes": 2})),
]


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
    assert json.loads((tmp_path / "b" / "checkpoint.json").read_text())["meta"]["epoch"] == 1
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


def test_foreign_checkpoints_are_refused(tmp_path):
    cfg = dict(rule="backprop", task="digits", backend="numpy", epochs=1)
    train(TrainConfig(hidden=(32,), **cfg), out=tmp_path, progress=False)
    with pytest.raises(DataError, match=r"comes from another config: hidden = \[32\] there, \[16\] here"):
        train(TrainConfig(hidden=(16,), **cfg), out=tmp_path, progress=False)
    header = json.loads((tmp_path / "checkpoint.json").read_text())
    header["meta"]["bioplast_version"] = "0.0.1"
    (tmp_path / "checkpoint.json").write_text(json.dumps(header))
    with pytest.raises(DataError, match="written with bioplast_version = '0.0.1'"):
        train(TrainConfig(hidden=(32,), **cfg), out=tmp_path, progress=False)


def test_damaged_checkpoints_are_clear_errors(tmp_path):
    cfg = TrainConfig(rule="backprop", task="digits", backend="numpy", epochs=1, hidden=(16,))
    train(cfg, out=tmp_path, progress=False)
    npz = tmp_path / "checkpoint.npz"
    npz.write_bytes(npz.read_bytes()[:-10])
    with pytest.raises(DataError, match="does not match checkpoint.json"):
        train(cfg, out=tmp_path, progress=False)
    (tmp_path / "checkpoint.json").write_text("{not json")
    with pytest.raises(DataError, match="is not valid JSON"):
        train(cfg, out=tmp_path, progress=False)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.one_of(
        st.binary(max_size=300),
        st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.recursive(
            st.none() | st.integers() | st.text(max_size=10),
            lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
            max_leaves=20,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_checkpoint_parser_fuzz_gives_data_errors_only(tmp_path_factory, data):
    from bioplast import get_backend
    from bioplast.training import checkpoints as checkpoint

    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "checkpoint.json").write_bytes(data)
    (folder / "checkpoint.npz").write_bytes(b"PK\x03\x04 not really a zip")
    template = ([np.zeros(3)], np.random.default_rng(0))
    with pytest.raises(DataError):
        checkpoint.load(folder, template, get_backend("numpy"), {"bioplast_version": "x"})


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
        r"non-finite loss in epoch 2 from step 51 \(batch 6 of 45, phase: training\); "
        r"the last good checkpoint \(epoch 1\)"
    )
    with pytest.raises(DivergenceError, match=message):
        train(cfg, out=tmp_path, progress=False)
    assert json.loads((tmp_path / "checkpoint.json").read_text())["meta"]["epoch"] == 1
    assert [r["epoch"] for r in json.loads((tmp_path / "metrics.json").read_text())] == [0, 1]
