"""``bioplast reproduce``: claim rows, the command, the generated reproductions page."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from bioplast import ConfigError
from bioplast.cli import main
from bioplast.experiments import saddle as sx
from bioplast.reproduce import CLAIMS, last_row, run_claim
from bioplast.reproduce import saddle as rs
from bioplast.reproduce.claims import VERDICTS, Claim, Outcome, check_outcome

ROOT = Path(__file__).parents[2]


def _result(gd_hits, curl_hits, values=(2.0,)):
    """A saddle-escape result with the given times to threshold ``[seed, value]`` for GD and curl."""
    hit = np.stack([np.asarray(gd_hits, float), np.asarray(curl_hits, float)], -1)
    n, v = hit.shape[:2]
    return sx.SaddleEscape(
        "init_scale", values, ("GD", "curl"), np.arange(3), np.zeros((n, v, 2, 3)), hit, sx.SaddleProtocol()
    )


def test_the_saddle_panels_are_judged_from_the_measured_times():
    faster = _result([[400], [300], [np.inf]], [[100], [100], [200]])
    assert rs._judge("5b", faster)[1] == "reproduced"
    assert rs._judge("5b", _result([[100], [100]], [[400], [300]]))[1] == "not reproduced"
    assert rs._judge("5b", _result([[np.inf]], [[np.inf]]))[1] == "not reproduced"  # nothing decided
    # the controls: a gain is a failure of the claim "no gain", no decision is no evidence
    assert rs._judge("linear", _result([[100, 100]], [[105, 98]], (0.1, 2.0)))[1] == "reproduced"
    assert rs._judge("linear", _result([[100, 400]], [[100, 100]], (0.1, 2.0)))[1] == "not reproduced"
    assert rs._judge("small-init", _result([[np.inf]], [[np.inf]], (0.1,)))[1] == "not compared"
    # undecided values are no evidence either way: the decided one carries the verdict
    assert rs._judge("linear", _result([[np.inf, 100]], [[np.inf, 98]], (0.1, 2.0)))[1] == "reproduced"
    # 5d: no gain at the smallest scale and a gain at a large one; one of the two is "partly"
    scales = (0.1, 2.0, 4.0)
    assert rs._judge("5d", _result([[100, 400, 800]], [[100, 100, 100]], scales))[1] == "reproduced"
    assert rs._judge("5d", _result([[400, 400, 800]], [[100, 100, 100]], scales))[1] == "partly"
    assert rs._judge("5d", _result([[100, 800, 100]], [[100, 100, 100]], scales))[1] == "partly"  # no growth
    assert rs._judge("5c", _result([[100]], [[50]]))[1] == "not compared"


def test_a_quick_run_writes_its_row_report_and_figure(tmp_path):
    line = run_claim("curl-saddle", tmp_path, "quick")
    folder = tmp_path / "curl-saddle"
    assert json.loads((folder / "row.json").read_text()) == json.loads(json.dumps(line))
    assert line["verdict"] in VERDICTS and line["budget"] == "quick"
    assert line["command"] == "bioplast reproduce curl-saddle --budget quick"
    assert [d["part"][:3] for d in line["details"]] == ["5b:", "lin"]
    assert (folder / line["figure"]).stat().st_size > 10_000
    report = (folder / "report.md").read_text()
    assert f"**Verdict:** {line['verdict']}" in report and "Where we depart from the paper" in report
    # the numbers are the experiment's own: the same protocol run again gives the same rows
    again = sx.saddle_escape(rs.QUICK, seeds=1)
    assert line["numbers"]["5b"][0]["GD median steps"] == again.rows()[0]["GD median steps"]
    assert last_row(tmp_path, "curl-saddle")["verdict"] == line["verdict"]
    (folder / "row.json").write_text("{not json")
    assert last_row(tmp_path, "curl-saddle") is None


def test_an_outcome_with_an_unknown_verdict_is_refused():
    claim = Claim("x", "t", "s", "p", run=lambda b, o, s: Outcome("1", "sort of", "f.png"))
    with pytest.raises(ConfigError, match="verdict 'sort of'"):
        check_outcome(claim, claim.run("quick", Path("."), 0))


def test_every_claim_is_described():
    for name, claim in CLAIMS.items():
        assert claim.name == name and claim.title and claim.source and claim.paper


def test_the_command_lists_runs_and_refuses(tmp_path, capsys, monkeypatch):
    import bioplast.reproduce as reproduce

    monkeypatch.setattr(reproduce, "COMMITTED", tmp_path / "none")
    assert main(["reproduce", "--list", "--out", str(tmp_path)]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in CLAIMS) and "not run" in listing
    (tmp_path / "curl-saddle").mkdir()
    (tmp_path / "curl-saddle" / "row.json").write_text(
        json.dumps({"claim": "curl-saddle", "verdict": "partly", "budget": "full"})
    )
    assert main(["reproduce", "--list", "--out", str(tmp_path)]) == 0
    assert f"partly (full budget, {tmp_path})" in capsys.readouterr().out
    assert main(["reproduce", "curl-sadle", "--out", str(tmp_path)]) == 2
    assert "unknown claim 'curl-sadle'" in capsys.readouterr().err
    assert main(["reproduce", "curl-saddle", "--all", "--out", str(tmp_path)]) == 2
    assert "not both" in capsys.readouterr().err


def test_the_reproductions_page_is_generated_from_the_rows(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("reproductions_hook", ROOT / "docs" / "hooks" / "reproductions.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    monkeypatch.setattr(hook, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(hook, "FIGURES", tmp_path / "img")
    run_claim("curl-saddle", tmp_path / "results", "quick")
    page = hook.page()
    line = json.loads((tmp_path / "results" / "curl-saddle" / "row.json").read_text())
    assert f"**{line['verdict']}**" in page and line["command"] in page
    assert "(img/reproduce/curl-saddle.png)" in page and (tmp_path / "img" / "curl-saddle.png").is_file()
