"""The benchmark harness: suites as data, resumable sweeps, failures recorded, local and Dask executors."""

import csv
import json
import math

import pytest

from bioplast import ConfigError
from bioplast.bench.suite import expand, load_suite
from bioplast.bench.sweep import run_suite
from bioplast.testing import worst_case

TINY = {
    "name": "tiny",
    "tasks": ["digits"],
    "backends": ["numpy"],
    "seeds": [0, 1],
    "epochs": 1,
    "hidden": [16],
    "runs": [{"label": "backprop", "rule": "backprop"}, {"label": "delta", "rule": "delta", "lr": 0.05}],
}


def _comparable(rows):
    """Rows without the wall clock: what must be identical between runs of the same suite."""
    keys = (
        "label",
        "task",
        "seed",
        "epoch",
        "loss",
        "train_acc",
        "test_acc",
        "synops",
        "energy_J",
        "grad_alignment",
        "status",
        "run_id",
    )
    return sorted(
        tuple("nan" if isinstance(r[k], float) and math.isnan(r[k]) else str(r[k]) for k in keys) for r in rows
    )


def test_suites_are_validated_before_anything_runs(tmp_path):
    bad = {**TINY, "runs": [{"rule": "ojaa"}]}
    with pytest.raises(ConfigError, match="unknown rule 'ojaa'; did you mean 'oja'"):
        load_suite(bad)
    with pytest.raises(ConfigError, match="unknown suite key 'seed'; did you mean 'seeds'"):
        load_suite({**TINY, "seed": [0]})
    with pytest.raises(ConfigError, match="unknown task 'mnist5'"):
        load_suite({**TINY, "tasks": ["mnist5"]})
    with pytest.raises(ConfigError, match="unknown key in runs\\[0\\] 'learning_rate'"):
        load_suite({**TINY, "runs": [{"rule": "delta", "learning_rate": 1}]})
    with pytest.raises(ConfigError, match="lr must be a finite number > 0, got -1"):
        load_suite({**TINY, "runs": [{"rule": "delta", "lr": -1}]})
    with pytest.raises(ConfigError, match="two runs are labelled 'x'"):
        load_suite({**TINY, "runs": [{"rule": "delta", "label": "x"}, {"rule": "oja", "label": "x"}]})
    (tmp_path / "s.toml").write_text("name = [unclosed")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_suite(tmp_path / "s.toml")
    with pytest.raises(ConfigError, match="unknown suite 'quik'; did you mean 'quick'"):
        load_suite("quik")
    (tmp_path / "ok.toml").write_text(
        'name = "t"\ntasks = ["digits"]\nbackends = ["numpy"]\nseeds = [0]\n[[runs]]\nrule = "delta"\nparams = {}\n'
    )
    assert len(expand(load_suite(tmp_path / "ok.toml"))) == 1
    assert len(expand(load_suite("quick"))) == 24
    assert len(expand(load_suite("curl"))) == 8 * 2 * 3  # runs × tasks × seeds
    assert (
        len(expand(load_suite("eqprop"))) == 15 and len(expand(load_suite("dale"))) == 6 * 2 * 3
    )  # 6 runs (the Adam baseline first) × 2 tasks × 3 seeds
    assert len(expand(load_suite("substrate"))) == 2 * 6 * 2 * 3  # rules × substrates × tasks × seeds
    assert len(expand(load_suite("substrate-sweep"))) == 7 * (7 + 5) * 3  # (6 rate rules + STDP) × sweep points × seeds
    assert len(expand(load_suite("spiking"))) == 6 * 2 * 3  # runs × tasks × seeds


@pytest.mark.slow
def test_soak_a_thousand_steps_with_a_diverging_run_and_a_killed_one(tmp_path, monkeypatch):
    """3 configurations × 2 seeds × 4 epochs × 45 batches = 1,080 training steps; one configuration
    diverges (MSE at lr 10), one run is killed inside an epoch and the sweep re-run: every other
    result is present, identical to an uninterrupted sweep, and not duplicated."""
    from bioplast.models.mlp import MLP as _Model

    suite = {
        **TINY,
        "epochs": 4,
        "runs": TINY["runs"] + [{"label": "diverges", "rule": "backprop", "loss": "mse", "lr": 10.0}],
    }
    clean = run_suite(suite, tmp_path / "clean", progress=False)
    original, calls = _Model.train_batch, {"n": 0}

    def killed(self, x, t):
        calls["n"] += 1
        if calls["n"] == 250:  # the second run's third epoch
            raise KeyboardInterrupt
        return original(self, x, t)

    monkeypatch.setattr(_Model, "train_batch", killed)
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, tmp_path / "sweep", progress=False)
    monkeypatch.setattr(_Model, "train_batch", original)
    resumed = run_suite(suite, tmp_path / "sweep", progress=False)
    assert _comparable(resumed["rows"]) == _comparable(clean["rows"])
    keys = [(r["run_id"], r["epoch"]) for r in resumed["rows"]]
    assert len(keys) == len(set(keys))
    failed = [r for r in resumed["rows"] if r["status"] == "failed"]
    assert {r["label"] for r in failed} == {"diverges"} and all("DivergenceError" in r["error"] for r in failed)
    done = {r["run_id"] for r in resumed["rows"] if r["status"] == "done"}
    assert len(done) == 4 and all(max(r["epoch"] for r in resumed["rows"] if r["run_id"] == i) == 4 for i in done)
    with open(tmp_path / "sweep" / "results.csv") as fh:
        assert len(list(csv.DictReader(fh))) == len(resumed["rows"])
    summary = {s["label"]: s for s in resumed["summary"]}
    assert summary["diverges"]["failed"] == 2 and summary["backprop"]["failed"] == 0
    assert "data:image/png;base64," in (tmp_path / "sweep" / "report.html").read_text()


def test_a_finished_sweep_is_not_run_again(tmp_path, monkeypatch):
    first = run_suite(TINY, tmp_path, progress=False)
    import bioplast.bench.sweep

    monkeypatch.setattr(bioplast.bench.sweep, "train", lambda *a, **k: pytest.fail("a finished run was trained again"))
    again = run_suite(TINY, tmp_path, progress=False)
    assert _comparable(again["rows"]) == _comparable(first["rows"])
    assert again["overhead"]["fraction"] < 1.0


@pytest.mark.slow
def test_process_and_dask_executors_give_the_same_table(tmp_path):
    from distributed import LocalCluster

    ref = run_suite(TINY, tmp_path / "inproc", progress=False)
    local = run_suite(TINY, tmp_path / "pool", workers=2, progress=False)
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        dask = run_suite(TINY, tmp_path / "dask", executor="dask", scheduler=cluster.scheduler_address, progress=False)
    assert _comparable(local["rows"]) == _comparable(ref["rows"]) == _comparable(dask["rows"])


def test_parallel_sweeps_show_a_bar_per_run_under_the_sweeps(tmp_path, capfd):
    """Each worker process draws its runs' bars on a line of its own (tqdm's shared lock)."""
    result = run_suite(TINY, tmp_path, workers=2, progress=True)
    err = capfd.readouterr().err
    assert "sweep" in err and "backprop/digits/numpy" in err and "delta/digits/numpy" in err
    assert all(r["status"] == "done" for r in result["rows"])


def test_report_compares_energy_and_alignment(tmp_path):
    suite = {
        **TINY,
        "seeds": [0],
        "epochs": 2,
        "runs": [
            {"label": "backprop", "rule": "backprop"},
            {"label": "FA", "rule": "feedback_alignment"},
            {"label": "Oja", "rule": "oja"},
            {"label": "backprop @ fixed-point", "rule": "backprop", "substrate": "fixed-point"},
        ],
    }
    result = run_suite(suite, tmp_path, progress=False)
    summary = {s["label"]: s for s in result["summary"]}
    # backprop's direction is the reference itself: each record's cosine is within γ₄ (float32) of 1
    # (the square roots, their product and the division; tests/test_alignment_records.py), and the
    # float64 mean over the records adds ≤ 1e-15, well inside one more float32 rounding: γ₅
    assert summary["backprop"]["grad_alignment_mean"] == pytest.approx(1.0, abs=worst_case("float32", 5))
    assert 0.0 < summary["FA"]["grad_alignment_mean"] < 0.99
    assert math.isnan(summary["Oja"]["grad_alignment_mean"])  # a clamped Hebbian readout follows no gradient
    # FA's backward pass is the same size as backprop's: same operations, same energy on the same substrate
    assert summary["FA"]["energy_J_mean"] == summary["backprop"]["energy_J_mean"] > 0
    assert math.isnan(summary["backprop @ fixed-point"]["energy_J_mean"])  # no figures, no estimate
    report = (tmp_path / "report.md").read_text()
    assert "| energy (J) | alignment with backprop |" in report
    assert "![alignment_digits.png]" in report and "![accuracy_vs_energy_digits.png]" in report
    # NeuroBench's synaptic operations of an evaluation pass, and the cost of learning
    assert "| synaptic ops per inference | plasticity ops | learning energy (J, estimate) |" in report
    assert "![accuracy_vs_synops_digits.png]" in report and "![accuracy_vs_learning_cost_digits.png]" in report
    for name in ("alignment_digits.png", "accuracy_vs_energy_digits.png", "accuracy_vs_synops_digits.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(tmp_path / "results.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert {"energy_J", "grad_alignment", "effective_synops", "footprint_bits", "learning_energy_J"} <= set(rows[0])


def test_bench_cli_and_bad_executor(tmp_path, capsys):
    from bioplast.cli import main

    suite = tmp_path / "s.toml"
    suite.write_text(
        'name = "cli"\ntasks = ["digits"]\nbackends = ["numpy"]\nseeds = [0]\nepochs = 1\n[[runs]]\nrule = "delta"\n'
    )
    assert main(["bench", "--suite", str(suite), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert json.loads(next((tmp_path / "o" / "runs").iterdir()).joinpath("status.json").read_text())["status"] == "done"
    assert main(["bench", "--suite", str(suite), "--out", str(tmp_path / "o"), "--executor", "ray"]) == 2
    assert "unknown executor 'ray'" in capsys.readouterr().err
    assert main(["bench", "--suite", str(suite), "--out", str(tmp_path / "o"), "--executor", "dask"]) == 2


@pytest.mark.slow
def test_damaged_run_files_are_recovered_cleanly(tmp_path):
    """A torn status file counts as unfinished; a damaged checkpoint restarts that run; results agree."""
    first = run_suite(TINY, tmp_path, progress=False)
    run_dirs = sorted((tmp_path / "runs").iterdir())
    (run_dirs[0] / "status.json").write_text('{"status": "do')  # torn write of another tool
    (run_dirs[0] / "checkpoint.npz").write_bytes(b"garbage")
    again = run_suite(TINY, tmp_path, progress=False)
    assert _comparable(again["rows"]) == _comparable(first["rows"])
    log = (run_dirs[0] / "run.log").read_text()
    assert "status.json cannot be read" in log and "the run starts over" in log


def test_runs_finished_by_an_older_results_schema_are_trained_again(tmp_path):
    """A results folder from an older bioplast (records without energy and alignment, a status
    without its digest, a checkpoint of the older two-file format) is brought up to the current
    schema, not silently reused."""
    first = run_suite(TINY, tmp_path, progress=False)
    run_dir = sorted((tmp_path / "runs").iterdir())[0]
    status = json.loads((run_dir / "status.json").read_text())
    old = [{k: v for k, v in r.items() if k not in ("energy_J", "grad_alignment")} for r in status["records"]]
    (run_dir / "status.json").write_text(json.dumps({"status": "done", "error": "", "records": old}))
    (run_dir / "checkpoint.npz").unlink()
    (run_dir / "checkpoint.json").write_text(json.dumps({"format": 1, "meta": {}}))
    again = run_suite(TINY, tmp_path, progress=False)
    assert _comparable(again["rows"]) == _comparable(first["rows"])
    log = (run_dir / "run.log").read_text()
    assert "running the job again" in log and "restarting the run from scratch" in log


def test_unwritable_results_folder_is_a_clear_error(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="cannot create output folder"):
        run_suite(TINY, tmp_path / "file" / "bench", progress=False)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=True)
    | st.sampled_from(["digits", "numpy", "delta", "oja", "x", ""]),
    lambda c: (
        st.lists(c, max_size=3)
        | st.dictionaries(
            st.sampled_from(["rule", "lr", "label", "params", "tasks", "seeds", "epochs", "runs", "backends", "zzz"]),
            c,
            max_size=4,
        )
    ),
    max_leaves=15,
)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.dictionaries(
        st.sampled_from(["name", "tasks", "backends", "seeds", "epochs", "hidden", "runs", "bad"]), _VALUES, max_size=6
    )
)
def test_suite_parser_fuzz_gives_config_errors_only(suite):
    """Malformed suites are ConfigErrors (or DataErrors), never a crash or a hang."""
    from bioplast import BioplastError

    try:
        load_suite(suite)
    except BioplastError:
        pass


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.binary(max_size=200))
def test_suite_file_fuzz(tmp_path_factory, data):
    from bioplast import BioplastError

    path = tmp_path_factory.mktemp("suite") / "s.toml"
    path.write_bytes(data)
    with pytest.raises(BioplastError):
        load_suite(path)
