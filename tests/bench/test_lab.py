"""Lab experiments of the curl study as suite jobs (kind = "lab"): tables, figures, resume, bad input."""

import csv
import json

import pytest

from bioplast import ConfigError
from bioplast.bench.suite import expand, load_suite
from bioplast.bench.sweep import run_suite

PHASE = {
    "label": "phase diagram",
    "kind": "lab",
    "experiment": "phase_diagram",
    "settings": {"c_values": [0.2, 1.0], "steps": 3000, "theory_hidden": 40, "sim_teachers": 2},
}
CHAOS = {"label": "chaos", "kind": "lab", "experiment": "chaos", "settings": {"fractions": [0.0, 1.0], "steps": 400}}
SADDLE = {
    "label": "saddle escape",
    "kind": "lab",
    "experiment": "saddle_escape",
    "settings": {"seeds": 1, "protocol": {"n_train": 200, "max_steps": 300, "records": 20}},
}


@pytest.mark.slow
def test_a_lab_suite_writes_tables_and_figures_and_resumes(tmp_path, monkeypatch):
    """A suite of lab runs needs no tasks; each job's table and figure reach the report; beside a rate
    run the summary holds only the training runs; a finished sweep does not run its experiments again."""
    suite = {
        "name": "lab",
        "tasks": ["digits"],
        "backends": ["numba"],
        "seeds": [0],
        "epochs": 1,
        "runs": [PHASE, CHAOS, SADDLE, {"label": "delta", "rule": "delta", "lr": 0.05}],
    }
    assert [j.config["task"] for j in expand(load_suite(suite))] == ["student-teacher"] * 3 + ["digits"]
    out = run_suite(suite, tmp_path, progress=False)
    assert [s["label"] for s in out["summary"]] == ["delta"]
    labs = {r["label"]: r for r in out["rows"] if r["task"] == "student-teacher"}
    assert set(labs) == {"phase diagram", "chaos", "saddle escape"}
    assert all(
        r["status"] == "done" and r["rule"] in ("phase_diagram", "chaos", "saddle_escape") for r in labs.values()
    )
    report = (tmp_path / "report.md").read_text()
    for title in (
        "## phase diagram (experiment phase_diagram",
        "## chaos (experiment chaos",
        "## saddle escape (experiment saddle_escape",
    ):
        assert title in report
    figures = sorted(p.name for p in tmp_path.glob("lab_*.png"))
    assert len(figures) == 3 and all(f"]({f})" in report for f in figures)
    assert all((tmp_path / f).stat().st_size > 10_000 for f in figures)
    html = (tmp_path / "report.html").read_text()
    assert html.count("<h2>") == 3 and html.count("data:image/png;base64") == 3 + len(
        [f for f in tmp_path.glob("*.png") if not f.name.startswith("lab_")]
    )
    # the numbers are the experiments' own (theory statements that hold at any size)
    lab = {job.label: job for job in expand(load_suite(suite))}
    status = {k: json.loads((tmp_path / "runs" / lab[k].run_id / "status.json").read_text()) for k in labs}
    phase = status["phase diagram"]["lab"]["rows"]
    assert phase[0]["c"] == 0.2 and phase[0]["hidden_layer_flips"] == 1.0 and phase[0]["sim_inputs"] == 1.0
    assert phase[1]["hidden_layer_flips"] <= 0.1 and phase[1]["sim_inputs"] == phase[1]["theory_small_inputs"]
    chaos = status["chaos"]["lab"]["rows"]
    assert chaos[0]["lyapunov"] < 0 and chaos[0]["order_parameter"] < 0 < chaos[1]["order_parameter"]
    # resumed: nothing runs again
    import bioplast.bench.lab as lab_module

    monkeypatch.setattr(lab_module, "run_lab", lambda *a, **k: pytest.fail("a finished lab job ran again"))
    again = run_suite(suite, tmp_path, progress=False)
    assert [r["run_id"] for r in again["rows"]] == [r["run_id"] for r in out["rows"]]


def test_lab_runs_are_validated_and_failures_are_recorded(tmp_path):
    base = {"name": "lab", "backends": ["numba"], "seeds": [0]}
    with pytest.raises(ConfigError, match="lab experiment 'phase_diagrm'.*phase_diagram"):
        load_suite({**base, "runs": [{**PHASE, "experiment": "phase_diagrm"}]})
    with pytest.raises(ConfigError, match="setting of lab experiment 'chaos' 'fractionz'.*fractions"):
        load_suite({**base, "runs": [{**CHAOS, "settings": {"fractionz": [0.1]}}]})
    with pytest.raises(ConfigError, match="lab backend 'torch:cuda'"):
        load_suite({**base, "runs": [{**CHAOS, "backends": ["torch:cuda"]}]})
    with pytest.raises(ConfigError, match="'saddle_escape' runs on numba only, got backend 'numpy'"):
        load_suite({**base, "runs": [{**SADDLE, "backends": ["numpy"]}]})
    with pytest.raises(ConfigError, match="key in runs\\[0\\] 'params'"):
        load_suite({**base, "runs": [{**CHAOS, "params": {}}]})
    with pytest.raises(ConfigError, match="suite 'tasks' must be a non-empty list"):
        load_suite({**base, "runs": [CHAOS, {"label": "delta", "rule": "delta"}]})
    # a bad value inside the settings fails that job, by name, and the sweep goes on
    bad = {**CHAOS, "label": "bad chaos", "settings": {"fractions": [0.0, 1.5], "steps": 10}}
    out = run_suite({**base, "runs": [bad]}, tmp_path, progress=False)
    row = out["rows"][0]
    assert row["status"] == "failed" and "[0, 1]" in row["error"] and "1.5" in row["error"]
    assert "Failed: ConfigError" in (tmp_path / "report.md").read_text()
    with open(tmp_path / "results.csv") as fh:
        assert next(csv.DictReader(fh))["task"] == "student-teacher"


def test_the_documented_lab_suite_is_valid(tmp_path):
    """The suites page's TOML example of a lab suite parses and validates as written."""
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "docs" / "suites.md").read_text()
    blocks = [b.split("```")[0] for b in readme.split("```toml\n")[1:]]
    lab = [b for b in blocks if 'kind = "lab"' in b]
    assert len(lab) == 1
    (tmp_path / "lab.toml").write_text(lab[0])
    suite = load_suite(tmp_path / "lab.toml")
    assert [j.config["experiment"] for j in expand(suite)] == ["phase_diagram"]
