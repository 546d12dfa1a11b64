"""Spiking runs as benchmark jobs: records like the rate trainer's, exact resume, suites that mix both kinds."""

import dataclasses
import json
import math

import pytest

from bioplast import ConfigError
from bioplast.bench.suite import expand, load_suite
from bioplast.bench.sweep import run_suite
from bioplast.hardware import estimate_energy, get_substrate
from bioplast.testing import worst_case
from bioplast.training import RECORD_COLUMNS, SpikingConfig
from bioplast.training import train as train_spiking

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
    """Diehl & Cook's own operation counts of one pass, priced with loihi2-like's figures: the same
    seeded run on the same backend counts the same operations, and the record prices them with the
    same function, so the energies are equal bit for bit."""
    from bioplast.data import load_task
    from bioplast.models.diehl_cook import DiehlCook, DiehlCookConfig

    data = load_task("digits", 0)
    records = train_spiking(dataclasses.replace(TINY_STDP, epochs=1), progress=False)
    model = DiehlCook(data.n_features, DiehlCookConfig(n_neurons=10, weight_total=78.0 * 64 / 784), seed=0)
    ops = model.train(data.x_train[:40]).ops
    assert records[-1]["synops"] == ops["synops"] > 0
    loihi = get_substrate("loihi2-like").energy
    assert records[-1]["energy_J"] == estimate_energy(ops, loihi)["total_J"]


def test_spiking_runs_in_a_suite_beside_rate_runs(tmp_path):
    suite = {
        "name": "mixed",
        "tasks": ["digits"],
        "backends": ["numpy"],
        "seeds": [0],
        "epochs": 1,
        "hidden": [16],
        "runs": [
            {"label": "backprop", "rule": "backprop"},
            {
                "label": "STDP",
                "kind": "spiking",
                "model": "diehl_cook",
                "backends": ["numba"],
                "n_neurons": 10,
                "train_samples": 40,
            },
            {
                "label": "BPTT",
                "kind": "spiking",
                "model": "surrogate",
                "backends": ["torch"],
                "n_neurons": 16,
                "train_samples": 200,
            },
        ],
    }
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
        load_suite(
            {**base, "runs": [{"kind": "spiking", "model": "surrogate", "backends": ["torch"], "theta_plus": 1e-4}]}
        )
    with pytest.raises(ConfigError, match="unknown substrate 'loihi'"):
        load_suite({**base, "runs": [{"kind": "spiking", "model": "diehl_cook", "energy_profile": "loihi"}]})


ON_CHIP = dataclasses.replace(
    TINY_STDP, substrate="fixed-point", substrate_params={"bits": 4, "sign_mode": "excitatory"}
)


def test_stdp_learns_on_a_substrate_a_write_per_digit_and_resumes_bit_for_bit(tmp_path):
    """Diehl & Cook on 4-bit one-signed devices: the weights stay on the grid of [0, 1] through STDP
    writes and normalisation re-programming, learning happens, the devices' draw counters are in
    the checkpoint (a resumed run equals a straight one), and the ideal substrate changes nothing."""
    import numpy as np

    from bioplast.hardware.profile import weight_grid

    straight = train_spiking(ON_CHIP, out=tmp_path / "a", progress=False)
    train_spiking(dataclasses.replace(ON_CHIP, epochs=1), out=tmp_path / "b", progress=False)
    resumed = train_spiking(ON_CHIP, out=tmp_path / "b", progress=False)
    assert _without_clock(resumed) == _without_clock(straight)
    w = np.load(tmp_path / "a" / "weights.npz", allow_pickle=False)["W"]
    _, step, _, _ = weight_grid(4, 0.0, 1.0)
    # float64 levels k·s rounded, 0 ≤ k ≤ 15: |w/s − k| ≤ 15 γ₂ (a weight off the grid is up to 1/2 off)
    assert np.abs(w / step - np.round(w / step)).max() <= 15 * worst_case("float64", 2)
    assert w.min() >= 0 and w.max() <= 1
    assert len(np.unique(w)) > 3  # it learned more than its initial levels
    ideal = train_spiking(
        dataclasses.replace(TINY_STDP, epochs=1, substrate="ideal", substrate_params={"read_noise": 0.0}),
        progress=False,
    )
    assert _without_clock(ideal) == _without_clock(
        train_spiking(dataclasses.replace(TINY_STDP, epochs=1), progress=False)
    )
    assert straight[-1]["synops"] > 0


NOISY_READS = dataclasses.replace(ON_CHIP, substrate_params={**ON_CHIP.substrate_params, "read_noise": 0.05})


def test_stdp_reads_its_devices_noisily_and_resumes_bit_for_bit(tmp_path):
    """Read noise on Diehl & Cook's input synapses: every delivered input spike reads its device
    (σ_read S = 0.05 here).  The training's read counter is in the checkpoint (resumed = straight),
    the noise changes what is learnt, and an evaluation with a given seed draws the same reads
    every time, independently of training."""
    import numpy as np

    from bioplast.data import load_task
    from bioplast.models.diehl_cook import DiehlCook, DiehlCookConfig

    straight = train_spiking(NOISY_READS, out=tmp_path / "a", progress=False)
    train_spiking(dataclasses.replace(NOISY_READS, epochs=1), out=tmp_path / "b", progress=False)
    assert _without_clock(train_spiking(NOISY_READS, out=tmp_path / "b", progress=False)) == _without_clock(straight)
    train_spiking(ON_CHIP, out=tmp_path / "c", progress=False)  # the same run, reading exactly
    w = {run: np.load(tmp_path / run / "weights.npz", allow_pickle=False)["W"] for run in "ac"}
    assert not np.array_equal(w["a"], w["c"])
    data = load_task("digits", 0)
    x = data.x_train[:20].astype(np.float64)
    cfg = DiehlCookConfig(n_neurons=10, weight_total=78.0 * 64 / 784)
    noisy, quiet = (
        DiehlCook(64, cfg, seed=1, substrate=NOISY_READS.device if r else ON_CHIP.device) for r in (True, False)
    )
    assert noisy._read_noise == 0.05 and quiet._read_noise == 0  # σ_read·S with S = 1: exact
    first = noisy.responses(x, batch=8, seed=[1, 2])
    np.testing.assert_array_equal(noisy.responses(x, batch=8, seed=[1, 2]), first)
    assert not np.array_equal(quiet.responses(x, batch=8, seed=[1, 2]), first)
    assert not np.array_equal(noisy.responses(x, batch=8, seed=[1, 3]), first)


def test_spiking_substrates_are_validated():
    with pytest.raises(ConfigError, match="only the diehl_cook model trains on device weights"):
        dataclasses.replace(TINY_BPTT, substrate="loihi2-like").validate()
    with pytest.raises(ConfigError, match="inference only"):
        dataclasses.replace(TINY_STDP, substrate="xylo-like").validate()
    dataclasses.replace(TINY_STDP, substrate="pcm-crossbar").validate()  # read noise and all
    with pytest.raises(ConfigError, match="unknown substrate parameter 'bitz'"):
        dataclasses.replace(TINY_STDP, substrate="fixed-point", substrate_params={"bitz": 3}).validate()


def test_a_spiking_sweep_gets_its_robustness_line(tmp_path):
    """A sweep whose runs also fix another substrate parameter (the sign mode) is still one series."""
    suite = {
        "name": "stdp-bits",
        "tasks": ["digits"],
        "backends": ["numba"],
        "seeds": [0],
        "epochs": 1,
        "runs": [
            {
                "label": f"STDP @ {b} bits",
                "kind": "spiking",
                "model": "diehl_cook",
                "n_neurons": 10,
                "train_samples": 30,
                "substrate": "fixed-point",
                "substrate_params": {"bits": b, "sign_mode": "excitatory"},
            }
            for b in (2, 6)
        ],
    }
    result = run_suite(suite, tmp_path, progress=False)
    rows = [r for r in result["rows"] if r["epoch"] == 1]
    assert [json.loads(r["substrate_params"])["bits"] for r in rows] == [2, 6]
    assert all(r["substrate"] == "fixed-point" and r["status"] == "done" for r in rows)
    assert (tmp_path / "robustness_bits_digits.png").exists()
