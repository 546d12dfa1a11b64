"""Checkpoint faults: a kill at any moment resumes to the uninterrupted run bit for bit; damaged,
edited or forged checkpoints are caught (moved aside, the run starts over) and foreign ones refused.

The in-process kill is exact: every file the trainer writes goes through ``atomic_write_bytes``,
and the run is killed at the N-th write for every N, before that write lands (the moment most
likely to leave a half-updated folder), then resumed.  The subprocess test sends SIGKILL at seeded
random moments and right after the first checkpoint appears (inside epoch 1)."""

import io
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bioplast.io
from bioplast import DataError, get_backend
from bioplast.errors import BioplastWarning
from bioplast.training import TrainConfig, checkpoints, train
from bioplast.training.checkpoints import CheckpointDamaged, CheckpointMismatch

# a read-noise substrate: every evaluation draws from the run's noise stream, so a record taken twice
# (or a stream restarted) changes every later number
CFG = dict(
    rule="backprop", task="digits", backend="numpy", hidden=(16,), batch_size=64, seed=1, substrate="reram-crossbar"
)


class Killed(BaseException):
    """The process dies here (not an Exception: nothing may catch it)."""


def _same_run(a: list, b: list) -> bool:
    """Equal records, wall time aside (compared as JSON text, where NaN equals NaN)."""

    def text(records):
        return json.dumps([{k: v for k, v in r.items() if k != "wall_time_s"} for r in records])

    return text(a) == text(b)


def _weights(folder):
    with np.load(folder / "weights.npz", allow_pickle=False) as f:
        return {n: f[n] for n in f.files}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    return train(TrainConfig(epochs=2, **CFG), out=out, progress=False), _weights(out)


def _count_writes(monkeypatch, kill_at=None):
    calls = {"n": 0}
    original = bioplast.io.atomic_write_bytes

    def counting(path, data):
        calls["n"] += 1
        if calls["n"] == kill_at:
            raise Killed(path)
        return original(path, data)

    monkeypatch.setattr(bioplast.io, "atomic_write_bytes", counting)
    monkeypatch.setattr(checkpoints, "atomic_write_bytes", counting)
    return calls


def test_a_kill_before_any_write_resumes_exactly(tmp_path, monkeypatch, reference):
    records, weights = reference
    calls = _count_writes(monkeypatch)
    train(TrainConfig(epochs=2, **CFG), out=tmp_path / "count", progress=False)
    n_writes = calls["n"]
    # config.json, then per record: neurobench.json, metrics.csv, metrics.json, weights, checkpoint
    assert n_writes == 1 + 3 * 5
    for kill_at in range(1, n_writes + 1):
        out = tmp_path / f"kill{kill_at}"
        _count_writes(monkeypatch, kill_at)
        with pytest.raises(Killed):
            train(TrainConfig(epochs=2, **CFG), out=out, progress=False)
        monkeypatch.undo()
        resumed = train(TrainConfig(epochs=2, **CFG), out=out, progress=False)
        assert _same_run(resumed, records), f"killed at write {kill_at}"
        assert _same_run(json.loads((out / "metrics.json").read_text()), records)
        assert all(np.array_equal(weights[n], _weights(out)[n]) for n in weights), f"killed at write {kill_at}"
        assert not list(out.glob(".*.tmp")), "a temporary file outlived the kill"


def test_resuming_from_the_epoch_0_checkpoint_records_epoch_0_once(tmp_path, monkeypatch, reference):
    from bioplast.models.mlp import MLP

    records, _ = reference
    original, calls = MLP.train_batch, {"n": 0}

    def killed_in_epoch_1(self, x, t):
        calls["n"] += 1
        if calls["n"] == 3:
            raise Killed
        return original(self, x, t)

    monkeypatch.setattr(MLP, "train_batch", killed_in_epoch_1)
    with pytest.raises(Killed):
        train(TrainConfig(epochs=2, **CFG), out=tmp_path, progress=False)
    assert checkpoints.read(tmp_path)[0]["meta"]["epoch"] == 0
    monkeypatch.undo()
    resumed = train(TrainConfig(epochs=2, **CFG), out=tmp_path, progress=False)
    assert [r["epoch"] for r in resumed] == [0, 1, 2]
    assert _same_run(resumed, records)


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_is_exact(tmp_path):
    cmd = [sys.executable, "-m", "bioplast.cli", "train", "--rule", "backprop", "--task", "digits"]
    cmd += ["--hidden", "16", "--batch-size", "64", "--seed", "1", "--substrate", "reram-crossbar"]
    cmd += ["--epochs", "2", "--quiet"]
    straight = subprocess.run([*cmd, "--out", str(tmp_path / "straight")], capture_output=True, timeout=300)
    assert straight.returncode == 0, straight.stderr[-2000:]
    records, weights = json.loads((tmp_path / "straight" / "metrics.json").read_text()), _weights(tmp_path / "straight")
    rng = np.random.default_rng(7)
    moments = ["first checkpoint", *rng.uniform(0.5, 4.0, size=2)]
    for i, moment in enumerate(moments):
        out = tmp_path / f"run{i}"
        proc = subprocess.Popen([*cmd, "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        if moment == "first checkpoint":
            while not (out / checkpoints.FILE).exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
        else:
            time.sleep(moment)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        done = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        got = json.loads((out / "metrics.json").read_text())
        assert _same_run(got, records), f"killed at {moment}"
        assert all(np.array_equal(weights[n], _weights(out)[n]) for n in weights), f"killed at {moment}"


def _rewrite(folder, edit, redigest: bool):
    """Edit the manifest (and arrays) of ``folder``'s checkpoint; with ``redigest`` the digest is
    recomputed as a forger who knows the format would."""
    path = folder / checkpoints.FILE
    with np.load(path, allow_pickle=False) as f:
        arrays = {n: f[n] for n in f.files}
    manifest = json.loads(arrays.pop("__manifest__").tobytes())
    digest = arrays.pop("__digest__")
    edit(manifest, arrays)
    text = json.dumps(manifest, sort_keys=True).encode()
    if redigest:
        digest = np.frombuffer(checkpoints._digest(text, arrays).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **arrays, __manifest__=np.frombuffer(text, np.uint8), __digest__=digest)
    path.write_bytes(buf.getvalue())


def _one_epoch(folder):
    cfg = TrainConfig(epochs=1, **CFG)
    return cfg, train(cfg, out=folder, progress=False)


def _forged_test_acc(m, a):
    m["meta"]["records"][-1]["test_acc"] = 1.0


def _forged_epoch(m, a):
    m["meta"]["epoch"] = 10**6


def _forged_bias(m, a):
    name = next(n for n in sorted(a) if a[n].ndim == 1)
    a[name] = np.zeros(a[name].size + 1, a[name].dtype)


DAMAGE = {
    "truncated": lambda f: (f / checkpoints.FILE).write_bytes((f / checkpoints.FILE).read_bytes()[:-40]),
    "not a zip": lambda f: (f / checkpoints.FILE).write_bytes(b"PK\x03\x04 not really a zip"),
    "an edited record": lambda f: _rewrite(f, _forged_test_acc, redigest=False),
    "a forged record count (digest recomputed)": lambda f: _rewrite(f, _forged_epoch, redigest=True),
    "a forged bias shape (digest recomputed)": lambda f: _rewrite(f, _forged_bias, redigest=True),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_checkpoint_is_moved_aside_and_the_run_starts_over(tmp_path, damage):
    cfg, clean = _one_epoch(tmp_path / "clean")
    _one_epoch(tmp_path / "run")
    DAMAGE[damage](tmp_path / "run")
    if damage != "a forged record count (digest recomputed)":  # the file is intact; the trainer sees the lie
        with pytest.raises(CheckpointDamaged):
            checkpoints.load(tmp_path / "run", _template(cfg), get_backend("numpy"), {})
    with pytest.warns(BioplastWarning, match="the run starts over"):
        again = train(cfg, out=tmp_path / "run", progress=False)
    assert _same_run((again), (clean))  # restarted from scratch, not from the forgery
    refused = list((tmp_path / "run").glob("checkpoint.refused-*.npz"))
    assert len(refused) == 1 and (tmp_path / "run" / f"{refused[0].name}.why.txt").exists()


def _template(cfg):
    from bioplast.data import load_task
    from bioplast.models import build_model

    k = get_backend("numpy")
    data = load_task(cfg.task, cfg.seed)
    model = build_model(cfg.validate().kind, cfg, k, data)
    return model.state(), np.random.default_rng(cfg.seed)


def test_a_checkpoint_of_another_configuration_or_version_is_refused(tmp_path):
    cfg = dict(CFG, epochs=1)
    train(TrainConfig(**{**cfg, "hidden": (32,)}), out=tmp_path, progress=False)
    with pytest.raises(CheckpointMismatch, match=r"hidden = \[32\] there, \[16\] here.*--restart"):
        train(TrainConfig(**cfg), out=tmp_path, progress=False)

    def older(m, a):
        m["meta"]["bioplast_version"] = "0.0.1"

    _rewrite(tmp_path, older, redigest=True)
    with pytest.raises(CheckpointMismatch, match="written with bioplast_version = '0.0.1'"):
        train(TrainConfig(**{**cfg, "hidden": (32,)}), out=tmp_path, progress=False)


def test_restart_moves_the_checkpoint_aside_and_trains_from_scratch(tmp_path):
    cfg = dict(CFG, epochs=1)
    train(TrainConfig(**{**cfg, "hidden": (32,)}), out=tmp_path / "run", progress=False)
    fresh = train(TrainConfig(**cfg), out=tmp_path / "fresh", progress=False)
    with pytest.warns(BioplastWarning, match="starting .* over"):
        again = train(TrainConfig(**cfg), out=tmp_path / "run", progress=False, resume=False)
    assert _same_run((again), (fresh))
    assert list((tmp_path / "run").glob("checkpoint.refused-*.npz"))


def test_the_cli_restart_flag_and_the_refusal_message(tmp_path):
    from bioplast.cli import main

    base = ["train", "--rule", "oja", "--task", "digits", "--epochs", "1", "--quiet", "--out", str(tmp_path)]
    assert main([*base, "--hidden", "8"]) == 0
    assert main([*base, "--hidden", "4"]) == 2  # another configuration: refused, the folder untouched
    assert main([*base, "--hidden", "4", "--restart"]) == 0
    assert json.loads((tmp_path / "config.json").read_text())["hidden"] == [4]


@pytest.mark.parametrize("with_arrays", [False, True])
def test_a_format_1_checkpoint_is_refused_with_the_way_out(tmp_path, with_arrays):
    (tmp_path / "checkpoint.json").write_text(json.dumps({"format": 1}))
    if with_arrays:  # the complete older pair: arrays without a manifest, the manifest beside them
        np.savez(tmp_path / "checkpoint.npz", L0=np.zeros(3))
    with pytest.raises(CheckpointMismatch, match=r"older bioplast \(format 1.*--restart"):
        train(TrainConfig(**dict(CFG, epochs=1)), out=tmp_path, progress=False)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    st.one_of(
        st.binary(max_size=400),
        st.just(b"PK\x03\x04 not really a zip"),
        st.dictionaries(st.sampled_from(["__manifest__", "__digest__", "L0", "x"]), st.binary(max_size=40)).map(
            lambda d: _npz({n: np.frombuffer(v, np.uint8) for n, v in d.items()})
        ),
        st.recursive(
            st.none() | st.integers() | st.text(max_size=10),
            lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
            max_leaves=20,
        ).map(lambda v: _npz({"__manifest__": np.frombuffer(json.dumps(v).encode(), np.uint8)}, digest=True)),
    )
)
def test_checkpoint_parser_fuzz_gives_data_errors_only(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / checkpoints.FILE).write_bytes(data)
    template = ([np.zeros(3)], np.random.default_rng(0))
    t0 = time.monotonic()
    with pytest.raises(DataError):
        checkpoints.load(folder, template, get_backend("numpy"), {"bioplast_version": "x"})
    assert time.monotonic() - t0 < 5


def _npz(arrays: dict, digest: bool = False) -> bytes:
    if digest:  # a well-formed digest, so the manifest itself is what is parsed
        manifest = arrays["__manifest__"].tobytes()
        arrays = {**arrays, "__digest__": np.frombuffer(checkpoints._digest(manifest, {}).encode(), np.uint8)}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()
