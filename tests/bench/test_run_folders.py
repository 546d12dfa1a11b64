"""A results folder is untrusted input: edited, malformed or hostile status files never crash a
sweep, never flow into the results, and never make bioplast read or write outside the folder;
run folders are locked while trained; workers die with their sweep."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioplast.bench import runfolder
from bioplast.bench.suite import expand, load_suite
from bioplast.bench.sweep import run_job, run_suite

TINY = {
    "name": "tiny",
    "tasks": ["digits"],
    "backends": ["numpy"],
    "seeds": [0],
    "epochs": 1,
    "hidden": [8],
    "runs": [{"label": "delta", "rule": "delta", "lr": 0.05}, {"label": "oja", "rule": "oja"}],
}
LAB = {
    "name": "lab",
    "backends": ["numpy"],
    "seeds": [0],
    "runs": [
        {
            "label": "pd",
            "kind": "lab",
            "experiment": "phase_diagram",
            "settings": {"c_values": [0.5], "sim_teachers": 1},
        }
    ],
}


def _rows(rows):
    keep = ("label", "seed", "epoch", "loss", "train_acc", "test_acc", "status", "error")
    return [json.dumps({k: r[k] for k in keep}) for r in rows]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return run_suite(TINY, tmp_path_factory.mktemp("clean"), progress=False)


def _status_path(out):
    return sorted((out / "runs").iterdir())[0] / "status.json"


def test_an_edited_record_is_not_believed(tmp_path, clean):
    run_suite(TINY, tmp_path, progress=False)
    path = _status_path(tmp_path)
    status = json.loads(path.read_text())
    status["records"][-1]["test_acc"] = 1.0  # a forged result
    path.write_text(json.dumps(status))
    again = run_suite(TINY, tmp_path, progress=False)
    assert _rows(again["rows"]) == _rows(clean["rows"])
    assert "digest does not match" in (path.parent / "run.log").read_text()


MALFORMED = [
    "[]",
    '"done"',
    '{"status": 5}',
    '{"status": "done"}',
    '{"status": "done", "error": "", "records": "x"}',
    '{"status": "done", "error": "", "records": [{"epoch": "0"}]}',
    '{"status": "done", "error": [], "records": []}',
    "{not json",
    "\udcff",
]


@pytest.mark.parametrize("text", MALFORMED)
def test_a_malformed_status_is_an_unfinished_run_not_a_crash(tmp_path, clean, text):
    run_suite(TINY, tmp_path, progress=False)
    path = _status_path(tmp_path)
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    again = run_suite(TINY, tmp_path, progress=False)
    assert _rows(again["rows"]) == _rows(clean["rows"])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
        lambda c: (
            st.lists(c, max_size=4)
            | st.dictionaries(
                st.sampled_from(["status", "error", "records", "lab", "epoch", "figure", "rows", "digest"]),
                c,
                max_size=5,
            )
        ),  # fmt: skip
        max_leaves=25,
    )
)
def test_status_parser_fuzz_never_raises(tmp_path_factory, value):
    folder = tmp_path_factory.mktemp("status")
    (folder / "status.json").write_text(json.dumps(value))
    t0 = time.monotonic()
    status, why = runfolder.read_status(folder)
    assert time.monotonic() - t0 < 2
    assert status is None and why  # nothing random carries a valid digest


def _forge(path, edit):
    status = json.loads(path.read_text())
    edit(status)
    runfolder.write_status(path.parent, status)  # a forger who knows the digest


def test_a_lab_figure_path_never_leaves_the_run_folder(tmp_path):
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG\r\n\x1a\n not yours")
    out = tmp_path / "results"
    run_suite(LAB, out, progress=False)
    path = _status_path(out)
    for name in ("../../../secret.png", str(secret), "..", "sub/lab.png"):
        _forge(path, lambda s, name=name: s["lab"].__setitem__("figure", name))
        status, why = runfolder.read_status(path.parent)
        assert status is None and "not a plain file name" in why
    # a plain name that is a link out of the folder is refused when the report is made
    (path.parent / "evil.png").symlink_to(secret)
    _forge(path, lambda s: s["lab"].__setitem__("figure", "evil.png"))
    run_suite(LAB, out, progress=False)
    report = (out / "report.md").read_text()
    assert "is not a file inside" in report
    assert b"not yours" not in (out / "report.html").read_bytes()
    assert not [p for p in out.glob("lab_*.png") if b"not yours" in p.read_bytes()]


def test_a_locked_run_folder_fails_that_run_and_bench_exits_1(tmp_path, capsys):
    from bioplast.cli import main

    suite_file = tmp_path / "tiny.toml"
    suite_file.write_text(
        'name = "tiny"\ntasks = ["digits"]\nbackends = ["numpy"]\nseeds = [0]\nepochs = 1\nhidden = [8]\n'
        '[[runs]]\nrule = "delta"\n[[runs]]\nrule = "oja"\n'
    )
    out = tmp_path / "out"
    job = expand(load_suite(suite_file))[0]
    run_dir = out / "runs" / job.run_id
    run_dir.mkdir(parents=True)
    with runfolder.locked(run_dir):  # another process trains here
        assert run_job(job, str(run_dir))["error"].startswith("RunFolderBusy")
        assert main(["bench", "--suite", str(suite_file), "--out", str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "1 run(s) failed (delta)" in err
    assert not (run_dir / "status.json").exists()  # nothing recorded for a run that never ran
    assert main(["bench", "--suite", str(suite_file), "--out", str(out), "--quiet"]) == 0  # released: it runs


def _children(pid: int) -> list:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as fh:
            return [int(c) for c in fh.read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (dead, not yet reaped by its new parent) is not running
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_workers_die_with_a_killed_sweep_and_the_resumed_table_is_exact(tmp_path):
    suite = {**TINY, "epochs": 3, "hidden": [32], "seeds": [0, 1, 2, 3]}  # 8 jobs: the sweep outlives the poll
    suite_file = tmp_path / "s.toml"
    suite_file.write_text(
        'name = "tiny"\ntasks = ["digits"]\nbackends = ["numpy"]\nseeds = [0, 1, 2, 3]\nepochs = 3\nhidden = [32]\n'
        '[[runs]]\nlabel = "delta"\nrule = "delta"\nlr = 0.05\n[[runs]]\nlabel = "oja"\nrule = "oja"\n'
    )
    straight = run_suite(suite, tmp_path / "straight", progress=False)
    out = tmp_path / "killed"
    cmd = [sys.executable, "-m", "bioplast.cli", "bench", "--suite", str(suite_file), "--out", str(out)]
    proc = subprocess.Popen([*cmd, "--workers", "2", "--quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and proc.poll() is None:
        logs = list(out.glob("runs/*/run.log"))
        if len(logs) >= 2 and len(_children(proc.pid)) >= 2:
            break
        time.sleep(0.05)
    workers = _children(proc.pid)
    assert proc.poll() is None and len(workers) >= 2, "the sweep finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    end = time.monotonic() + 10
    while time.monotonic() < end and any(_alive(w) for w in workers):
        time.sleep(0.1)
    assert not [w for w in workers if _alive(w)], "a worker outlived its sweep"
    done = subprocess.run([*cmd, "--workers", "2", "--quiet"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(out / "results.csv") as fh:
        import csv

        resumed = list(csv.DictReader(fh))
    keep = ("label", "seed", "epoch", "loss", "train_acc", "test_acc", "status")

    def text(rows):
        return sorted(json.dumps({k: str(r[k]) for k in keep}) for r in rows)

    assert text(resumed) == text(straight["rows"])
