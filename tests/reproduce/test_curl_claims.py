"""The curl stability claim: its statements are judged from the measured thresholds and exponents."""

import copy

from bioplast.reproduce import curl_stability as cs
from bioplast.reproduce import run_claim


def _phase(c, theory, sim):
    return {"c": c, "hidden_layer_flips": theory, "sim_inputs": sim, "theory_small_inputs": sim}


PHASE = [_phase(0.2, 1.0, 1.0), _phase(0.5, 0.12, 0.3), _phase(1.0, 0.02, 0.1)]
CHAOS = [
    {"fraction": 0.0, "flipped_inputs": 0, "lyapunov": -0.2, "order_parameter": -3.0},
    {"fraction": 0.5, "flipped_inputs": 20, "lyapunov": 0.1, "order_parameter": 0.5},
]


def _verdicts(phase, chaos):
    return [d["verdict"] for d in cs._parts(phase, chaos)]


def test_each_statement_follows_its_numbers():
    assert _verdicts(PHASE, CHAOS) == ["reproduced"] * 4
    stable_below = copy.deepcopy(PHASE)
    stable_below[0]["hidden_layer_flips"] = 0.9  # some flip pattern below c = 1/4 destabilises
    assert _verdicts(stable_below, CHAOS)[0] == "not reproduced"
    robust_above = copy.deepcopy(PHASE)
    robust_above[2]["hidden_layer_flips"] = 0.04  # two inputs needed at c = 1
    assert _verdicts(robust_above, CHAOS)[1] == "not reproduced"
    mismatch = copy.deepcopy(PHASE)
    mismatch[1]["sim_inputs"] = 0.9
    assert _verdicts(mismatch, CHAOS)[2] == "not reproduced"  # 2 of 3 match: below 80 %
    calm = copy.deepcopy(CHAOS)
    calm[1]["lyapunov"] = -0.01
    assert _verdicts(PHASE, calm)[3] == "not reproduced"


def test_a_quick_run_gives_a_row(tmp_path):
    line = run_claim("curl-stability", tmp_path, "quick")
    assert [d["part"][:5] for d in line["details"]] == ["c < 1", "c ≥ 2", "learn", "chaos"]
    assert line["numbers"]["phase"][0]["c"] == 0.2 and (tmp_path / "curl-stability" / "stability.png").is_file()
    assert line["ours"].endswith("statements hold")
