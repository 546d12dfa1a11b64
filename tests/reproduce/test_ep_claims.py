"""The EP reproduction claims at the quick budget: each row is well formed, its numbers are the
experiment's own (recomputed here from what it recorded), and its verdict moves when the numbers
the criterion reads move."""

import copy
import re

import numpy as np
import pytest

from bioplast.reproduce import ep_claims as ec
from bioplast.reproduce import report
from bioplast.reproduce.claims import VERDICTS, check_outcome, row

ROW_KEYS = {"claim", "title", "source", "paper", "ours", "verdict", "details", "numbers", "departures", "figure"}


def _run(claim, folder):
    """Run ``claim`` at the quick budget into ``folder``; the row as ``run_claim`` would write it."""
    outcome = check_outcome(claim, claim.run("quick", folder, 0))
    line = row(claim, outcome, "quick", 0.0)
    assert ROW_KEYS <= set(line)
    assert line["verdict"] in VERDICTS and line["command"] == f"bioplast reproduce {claim.name} --budget quick"
    figure = folder / line["figure"]
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = report(line)
    assert line["ours"] in md and f"**Verdict:** {line['verdict']}" in md
    return line


@pytest.fixture(scope="module")
def bias_row(tmp_path_factory):
    return _run(ec.EP_BPTT, tmp_path_factory.mktemp("ep-bptt"))


def test_the_claims_are_named_sourced_and_state_their_departures():
    assert [c.name for c in ec.CLAIMS] == ["ep-bptt", "holomorphic-exact", "gep-alignment", "ep-mnist"]
    assert [c.long for c in ec.CLAIMS] == [False, False, False, True]
    for c in ec.CLAIMS:
        assert c.title and c.source and c.paper and c.departures
        assert not re.search(r"#\d", c.title + c.paper + c.departures)  # no issue numbers in users' text


def test_bias_slopes_are_fitted_to_the_measured_errors(bias_row):
    n = bias_row["numbers"]
    beta = np.asarray(n["beta"])
    assert n["free_residual"] < 1e-6  # a fixed point: the error is the estimator's bias, not the relaxation's
    one, sym = (np.asarray(n[e]["relative_error"]) for e in ("one_sided", "symmetric"))
    assert np.all(sym < one) and np.all(np.diff(one) > 0) and np.all(np.diff(sym) > 0)
    for estimator, order in ec.ESTIMATORS.items():
        slope = np.polyfit(np.log(beta), np.log(n[estimator]["relative_error"]), 1)[0]  # natural logs: same slope
        assert n[estimator]["slope"] == pytest.approx(slope, rel=1e-12)
        assert round(slope) == order, (estimator, slope)  # the orders show even at this budget
        assert f"{slope:.2f}" in bias_row["ours"]
    assert bias_row["verdict"] == ec.combine(d["verdict"] for d in bias_row["details"])


def test_bias_verdict_moves_with_the_slopes(bias_row):
    n = copy.deepcopy(bias_row["numbers"])
    beta = np.asarray(n["beta"])
    n["one_sided"]["relative_error"] = list(0.5 * beta)  # exactly O(β)
    n["symmetric"]["relative_error"] = list(0.5 * beta**2)  # exactly O(β²)
    assert ec.judge_bias(n)[1] == "reproduced"
    n["symmetric"]["relative_error"] = list(0.5 * beta)  # symmetric no better than one-sided
    _, verdict, details = ec.judge_bias(n)
    assert verdict == "partly" and [d["verdict"] for d in details] == ["reproduced", "not reproduced"]
    tol = ec.ORDER_TOL
    assert [ec.judge_order(s, 1) for s in (1 + 0.9 * tol, 1 + 1.1 * tol, 1.6)] == [
        "reproduced",
        "partly",
        "not reproduced",
    ]


def test_holomorphic_error_falls_with_the_points_and_the_verdict_reads_the_floor(tmp_path):
    line = _run(ec.HOLOMORPHIC, tmp_path)
    n = line["numbers"]
    err = np.asarray(n["relative_error"])
    assert n["points"] == list(ec.HOLO["quick"]["points"])
    assert np.all(np.diff(err) < 0), err  # every added point lowers the error
    assert n["floor"] == ec.rounding_floor(64, 0.5)  # digits: 64 inputs
    rate = 10 ** np.polyfit(n["points"], np.log10(err), 1)[0]
    assert n["rate"] == pytest.approx(rate, rel=1e-12) and rate < 0.5
    exact, fast = (d["verdict"] for d in line["details"])
    assert exact == ("reproduced" if err.min() <= n["floor"] else "not reproduced")
    moved = copy.deepcopy(n)
    moved["floor"] = float(err[-2])  # the rounding floor reached at the last but one point
    assert ec.judge_holo(moved)[2][0]["verdict"] == "reproduced"
    moved = copy.deepcopy(n)
    moved["relative_error"][2] = 10 * err[1]  # one point that rises: not a geometric fall
    assert fast == "reproduced" and ec.judge_holo(moved)[2][1]["verdict"] == "partly"


def test_gep_alignment_curves_are_measured_and_judged_against_each_other(tmp_path):
    line = _run(ec.GEP_ALIGNMENT, tmp_path)
    n = line["numbers"]
    assert n["asymmetry"] == list(ec.GEP["quick"]["asymmetries"])
    for key in ("plain", "homeostasis"):
        cos = np.asarray(n[key]["cosine"])
        assert cos.shape == (len(n["asymmetry"]),) and np.all(np.abs(cos) <= 1)
    plain, homeo = n["plain"]["cosine"], n["homeostasis"]["cosine"]
    assert plain[-1] < plain[0]  # asymmetric feedback misaligns the estimate, even after two batches
    assert f"{plain[-1]:.4f}" in line["ours"] and f"{homeo[-1]:.4f}" in line["ours"]
    moved = copy.deepcopy(n)
    moved["homeostasis"]["cosine"] = [plain[0]] * len(plain)  # homeostasis as good as the symmetric start
    assert ec.judge_gep(moved)[2][0]["verdict"] == "reproduced"
    moved["homeostasis"]["cosine"] = [c - 0.01 for c in plain]  # worse than no homeostasis
    assert ec.judge_gep(moved)[2][0]["verdict"] == "not reproduced"
    moved["plain"]["cosine"] = plain[::-1]  # alignment improving with asymmetry
    assert ec.judge_gep(moved)[1] == "not reproduced"


def test_mnist_curves_are_the_runs_and_the_verdict_reads_the_reference(tmp_path):
    line = _run(ec.EP_MNIST, tmp_path)
    n, setup = line["numbers"], ec.MNIST["quick"]
    for key in ("ep", "backprop"):
        acc = np.asarray(n[key])
        assert acc.shape == (setup["seeds"], setup["epochs"] + 1) and np.all((acc >= 0) & (acc <= 1))
    assert n["n_test"] == 359  # the digits task's test split (20 % of 1,797, stratified)
    p = np.asarray(n["ep"])[:, 1]
    tol = ec.accuracy_tolerance(p, n["n_test"])
    assert tol == pytest.approx(2 * np.sqrt(p[0] * (1 - p[0]) / 359) * np.sqrt(2) + 0.0025)  # one seed: binomial
    assert line["details"][0]["verdict"] == ("reproduced" if abs(p[0] - 0.88) <= tol else "not reproduced")
    assert ec.judge_mnist(n, {1: float(p[0]) + 0.9 * tol})[1] == "reproduced"
    assert ec.judge_mnist(n, {1: float(p[0]) + 1.1 * tol})[1] == "not reproduced"
    assert line["details"][-1]["verdict"] == "not compared"  # backprop is drawn, not judged
