import json

import numpy as np
import pytest

from bioplast.cli import main
from bioplast.testing import tolerance, worst_case
from bioplast.training import RECORD_COLUMNS


def test_rules_and_backends_listing(capsys):
    assert main(["rules"]) == 0
    out = capsys.readouterr().out
    for name in ("hebb", "anti_hebb", "oja", "bcm", "delta", "backprop"):
        assert name in out
    assert "Oja (1982)" in out
    assert main(["backends"]) == 0
    out = capsys.readouterr().out
    assert "numba" in out and "cuda" in out


def test_train_writes_records(tmp_path, capsys):
    out = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--rule",
                "delta",
                "--task",
                "digits",
                "--backend",
                "numba",
                "--epochs",
                "2",
                "--seed",
                "1",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    records = json.loads((out / "metrics.json").read_text())
    assert [r["epoch"] for r in records] == [0, 1, 2]
    assert records[-1]["test_acc"] > 0.5  # chance is 0.1; 3 seeds of the demo reach ~0.9 in 10 epochs
    assert records[-1]["synops"] == 2 * 1438 * 2 * 64 * 10  # 2 epochs × samples × (forward + update) × synapses
    csv_lines = (out / "metrics.csv").read_text().splitlines()
    # the ideal substrate's digital float32 figures: synops and neuron updates 4.6 pJ, a graded message
    # per neuron update and a write per synapse per batch (45 batches of 32) 5 pJ
    ops = 2 * (1438 * 2 * 640 * 4.6e-12 + 1438 * 10 * (4.6e-12 + 5e-12) + 45 * 640 * 5e-12)
    # positive terms, each priced with ≤ 4 roundings on either side (a product, the sums): the two
    # results are the same number to γ₈ relative (the counts are exact integers)
    assert records[-1]["energy_J"] == pytest.approx(ops, rel=worst_case("float64", 8), abs=0)
    # the delta rule on a softmax readout is the cross-entropy gradient itself, computed once by the
    # backend and once by torch autograd in float32: the two directions differ by rounding, which moves
    # the cosine only to second order; the cosine's own float32 dot products over the 640 weights round
    # by ≤ tolerance(float32, 640) each (a·b, and half of that for each of ‖a‖², ‖b‖²), then 4 more ops
    slack = 2 * tolerance("float32", 640) + worst_case("float32", 4)
    assert all(abs(r["grad_alignment"] - 1) <= slack for r in records)
    assert csv_lines[0] == ",".join(RECORD_COLUMNS) and csv_lines[0].startswith(
        "epoch,loss,train_acc,test_acc,wall_time_s,synops,energy_J,grad_alignment,effective_synops"
    )
    assert len(csv_lines) == 4
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["rule"] == "delta" and cfg["rule_spec"]["reads"] == ["mod", "pre"]
    with np.load(out / "weights.npz", allow_pickle=False) as w:
        assert w["W0"].shape == (10, 64)
    assert not list(out.glob(".*tmp"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--rule", "ojaa"], "unknown rule 'ojaa'; did you mean 'oja'"),
        (["--rule", "oja", "--task", "mnst"], "unknown task 'mnst'"),
        (["--rule", "oja", "--backend", "jax"], "unknown backend 'jax'.*valid backends: numba, numpy, torch"),
        (["--rule", "oja", "--backend", "torch", "--device", "cuda"], "no CUDA device is available"),
        (["--rule", "oja", "--epochs", "-1"], "epochs must be an integer > 0, got -1"),
        (["--rule", "oja", "--lr", "nan"], "lr must be a finite number > 0"),
        (["--rule", "anti_hebb"], "role 'lateral'"),
        (["--rule", "oja", "--task", "mnist", "--data-dir", "/nonexistent"], "IDX directory not found"),
    ],
)
def test_train_bad_input_is_a_clear_error(args, message, capsys):
    import re

    assert main(["train", *args, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err


def test_interrupt_leaves_no_half_written_file(tmp_path, monkeypatch):
    """Ctrl-C during a write: the previous complete file stays, no temp file remains."""
    from bioplast import io

    target = tmp_path / "metrics.json"
    io.atomic_write_json(target, [{"epoch": 0}])

    real_fsync = io.os.fsync

    def interrupted(fd):
        real_fsync(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(io.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        io.atomic_write_json(target, [{"epoch": 0}, {"epoch": 1}])
    assert json.loads(target.read_text()) == [{"epoch": 0}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_train_interrupted_mid_run_keeps_only_complete_files(tmp_path, monkeypatch, capsys):
    from bioplast.models import mlp as train_mod

    calls = {"n": 0}
    real = train_mod.MLP.train_batch

    def flaky(self, x, t):
        calls["n"] += 1
        if calls["n"] == 60:  # inside epoch 2
            raise KeyboardInterrupt
        return real(self, x, t)

    monkeypatch.setattr(train_mod.MLP, "train_batch", flaky)
    out = tmp_path / "run"
    assert main(["train", "--rule", "oja", "--epochs", "3", "--out", str(out), "--quiet"]) == 130
    records = json.loads((out / "metrics.json").read_text())
    assert [r["epoch"] for r in records] == [0, 1]
    assert sorted(p.name for p in out.iterdir()) == [
        "checkpoint.npz",
        "config.json",
        "metrics.csv",
        "metrics.json",
        "neurobench.json",
        "weights.npz",
    ]


def test_unwritable_output_folder(tmp_path, capsys):
    # a regular file where the folder should be: cannot be created, even as root
    (tmp_path / "file").write_text("x")
    assert main(["train", "--rule", "oja", "--out", str(tmp_path / "file" / "run"), "--quiet"]) == 2
    assert "cannot create output folder" in capsys.readouterr().err


def test_backends_agree_on_a_training_run():
    from bioplast.training import TrainConfig, train

    runs = {
        b: train(TrainConfig(rule="backprop", backend=b, epochs=2, dtype="float64"), progress=False)
        for b in ("numpy", "numba", "torch")
    }
    for b in ("numba", "torch"):
        for r, ref in zip(runs[b], runs["numpy"], strict=True):
            assert r["test_acc"] == ref["test_acc"]
            # torch computes the loss on every backend (autograd); the backends' weights differ by the
            # rounding of their updates: each weight is W₀ plus 2 × 45 updates of 32-term batch sums,
            # seen through 64-term drives — one reduction of 2·45·32·64 terms, random-walk tolerance
            # (no amplification of rounding over a 90-step run)
            np.testing.assert_allclose(
                r["loss"], ref["loss"], rtol=tolerance("float64", 2 * 45 * 32 * 64), atol=0, equal_nan=True
            )


def test_same_seed_reproduces():
    from bioplast.training import TrainConfig, train

    a = train(TrainConfig(rule="bcm", backend="numba", epochs=2, seed=5), progress=False)
    b = train(TrainConfig(rule="bcm", backend="numba", epochs=2, seed=5), progress=False)
    assert [(r["loss"], r["test_acc"]) for r in a[1:]] == [(r["loss"], r["test_acc"]) for r in b[1:]]


def test_demo_runs_the_suite_and_writes_a_report(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--task", "digits", "--epochs", "1", "--seeds", "1", "--quiet"]) == 0
    report = (out / "report.md").read_text()
    for label in ("backprop (Adam)", "EP symmetric", "DANN (backprop)", "bcm"):
        assert f"| {label} | digits |" in report
    assert (out / "results.csv").exists() and (out / "report.html").exists()


def test_a_closed_pipe_ends_the_listing_quietly():
    """`bioplast substrates | head -1`: the reader leaves early; no traceback, exit status 0."""
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from bioplast.cli import main; sys.exit(main())", "substrates"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # gone before the child (still importing) writes a byte: its first write fails
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0 and "BrokenPipeError" not in err, err
