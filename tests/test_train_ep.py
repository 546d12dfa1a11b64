"""Training every EP rule through the public trainer."""
import numpy as np
import pytest

from bioplast import ConfigError
from bioplast.train import TrainConfig, train

CASES = [
    ("eqprop", {"estimator": "one_sided"}, "sgd", 0.05),
    ("eqprop", {"estimator": "random_sign"}, "sgd", 0.05),
    ("eqprop", {"estimator": "symmetric", "cost": "cross_entropy"}, "adam", 2e-3),
    ("holo_eqprop", {"cost": "cross_entropy", "points": 4}, "sgd", 0.1),
    ("gen_eqprop", {"asymmetry": 1.0, "homeostasis": 0.5}, "sgd", 0.05),
]


@pytest.mark.parametrize("rule,params,opt,lr", CASES)
def test_every_ep_rule_learns_digits(tmp_path, rule, params, opt, lr):
    rec = train(TrainConfig(rule=rule, task="digits", backend="numba", epochs=2, lr=lr, optimizer=opt,
                            rule_params=params), out=tmp_path, progress=False)
    assert rec[0]["test_acc"] < 0.25 and rec[-1]["test_acc"] > 0.75, rec  # chance is 0.1
    arrays = np.load(tmp_path / "weights.npz", allow_pickle=False)
    expect = {"W0", "b0", "W1", "b1"} if params.get("cost") != "cross_entropy" else {"W0", "b0", "W_out", "b_out"}
    if rule == "gen_eqprop":
        expect |= {"B1"}  # the top-down partner of W1
    assert expect <= set(arrays.files)


def test_same_seed_same_run():
    cfg = dict(rule="eqprop", task="digits", backend="numba", epochs=1, rule_params={"estimator": "random_sign"})
    a = train(TrainConfig(**cfg), progress=False)
    b = train(TrainConfig(**cfg), progress=False)
    for ra, rb in zip(a, b):
        for key in ("loss", "train_acc", "test_acc", "synops"):  # everything but the wall clock
            np.testing.assert_array_equal(ra[key], rb[key])


def test_unknown_optimizer_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown optimizer 'sdg'; did you mean 'sgd'"):
        train(TrainConfig(rule="eqprop", optimizer="sdg"), progress=False)
