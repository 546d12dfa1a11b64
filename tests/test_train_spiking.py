"""Spiking runs as benchmark jobs: records like the rate trainer's, exact resume, suites that mix both kinds."""
import dataclasses
import json
import math

import pytest

from bioplast import ConfigError
from bioplast.bench.suite import expand, load_suite
from bioplast.bench.sweep import run_suite
from bioplast.hardware import estimate_energy, get_substrate
from bioplast.train import RECORD_COLUMNS
from bioplast.train_spiking import SpikingConfig, train_spiking

pytest.importorskip("snntorch")

TINY_STDP = SpikingConfig("diehl_cook", backend="numba", epochs=2, n_neurons=10, train_samples=40)
TINY_BPTT = SpikingConfig("surrogate", backend="torch", epochs=2, n_neurons=16, train_samples=200, lr=5e-3)


def _without_clock(records):
    return json.dumps([{k: v for k, v in r.items() if k != "wall_time_s"} for r in records])


@pytest.mark.parametrize("cfg", [TINY_STDP, TINY_BPTT], ids=["diehl_cook", "surrogate"])
def test_an_interrupted_spiking_run_resumes_bit_for_bit(tmp_path, cfg):
    straight = train_spiking(cfg, out=tmp_path / "a", progress=False)
    train_spiking(dataclasses.replace(cfg, epochs=1), out=tmp_path / "b", progress=False)
    resumed = train_spiking(cfg, out=tmp_path / "b", progress=False)
    assert _without_clock(resumed) == _without_clock(straight)
    assert list(straight[0]) == RECORD_COLUMNS and [r["epoch"] for r in straight] == [0, 1, 2]
    assert straight[0]["synops"] == 0 and straight[0]["energy_J"] == 0  # nothing trained yet
    assert 0 < straight[1]["energy_J"] < straight[2]["energy_J"]
    assert all(math.isnan(r["grad_alignment"]) for r in straight)


def test_stdp_energy_prices_the_simulated_operations_on_the_profile():
    """Diehl & Cook's own operation counts of one pass, priced with loihi2-like's figures."""
    from bioplast.data import load_task
    from bioplast.dynamics.diehl_cook import DiehlCook, DiehlCookConfig

    data = load_task("digits", 0)
    records = train_spiking(dataclasses.replace(TINY_STDP, epochs=1), progress=False)
    model = DiehlCook(data.n_features, DiehlCookConfig(n_neurons=10, weight_total=78.0 * 64 / 784), seed=0)
    ops = model.train(data.x_train[:40]).ops
    assert records[-1]["synops"] == ops["synops"] > 0
    loihi = get_substrate("loihi2-like").energy
    assert records[-1]["energy_J"] == pytest.approx(estimate_energy(ops, loihi)["total_J"])


def test_spiking_runs_in_a_suite_beside_rate_runs(tmp_path):
    suite = {"name": "mixed", "tasks": ["digits"], "backends": ["numpy"], "seeds": [0], "epochs": 1, "hidden": [16],
             "runs": [{"label": "backprop", "rule": "backprop"},
                      {"label": "STDP", "kind": "spiking", "model": "diehl_cook", "backends": ["numba"],
                       "n_neurons": 10, "train_samples": 40},
                      {"label": "BPTT", "kind": "spiking", "model": "surrogate", "backends": ["torch"],
                       "n_neurons": 16, "train_samples": 200}]}
    jobs = expand(load_suite(suite))
    assert [j.config["backend"] for j in jobs] == ["numpy", "numba", "torch"]
    assert "kind" not in jobs[0].config  # rate runs keep the run ids they had before job kinds
    result = run_suite(suite, tmp_path, progress=False)
    rows = {r["label"]: r for r in result["rows"] if r["epoch"] == 1}
    assert rows["STDP"]["rule"] == "diehl_cook" and rows["BPTT"]["rule"] == "surrogate"
    assert json.loads(rows["STDP"]["params"])["energy_profile"] == "loihi2-like"
    assert json.loads(rows["BPTT"]["params"])["energy_profile"] == "ideal"
    assert all(r["status"] == "done" and r["energy_J"] > 0 for r in rows.values())
    assert (tmp_path / "accuracy_vs_energy_digits.png").exists()
    again = run_suite(suite, tmp_path, progress=False)  # finished: nothing runs again, same table
    assert [r["test_acc"] for r in again["rows"]] == [r["test_acc"] for r in result["rows"]]


def test_spiking_runs_are_validated_before_anything_runs():
    base = {"name": "s", "tasks": ["digits"], "backends": ["numba"], "seeds": [0]}
    with pytest.raises(ConfigError, match="unknown spiking model 'diehl_cok'; did you mean 'diehl_cook'"):
        load_suite({**base, "runs": [{"kind": "spiking", "model": "diehl_cok"}]})
    with pytest.raises(ConfigError, match="runs\\[0\\] needs a 'model'"):
        load_suite({**base, "runs": [{"kind": "spiking"}]})
    with pytest.raises(ConfigError, match="unknown key in runs\\[0\\] 'params'"):
        load_suite({**base, "runs": [{"kind": "spiking", "model": "diehl_cook", "params": {}}]})
    with pytest.raises(ConfigError, match="unknown kind in runs\\[0\\] 'spiky'"):
        load_suite({**base, "runs": [{"kind": "spiky", "model": "diehl_cook"}]})
    with pytest.raises(ConfigError, match="backend must be 'torch', got 'numba'"):
        load_suite({**base, "runs": [{"kind": "spiking", "model": "surrogate"}]})
    with pytest.raises(ConfigError, match="n_neurons"):
        load_suite({**base, "runs": [{"kind": "spiking", "model": "diehl_cook", "n_neurons": 0}]})
    with pytest.raises(ConfigError, match="theta_plus is a parameter of the diehl_cook model"):
        load_suite({**base, "runs": [{"kind": "spiking", "model": "surrogate", "backends": ["torch"],
                                      "theta_plus": 1e-4}]})
    with pytest.raises(ConfigError, match="unknown substrate 'loihi'"):
        load_suite({**base, "runs": [{"kind": "spiking", "model": "diehl_cook", "energy_profile": "loihi"}]})
