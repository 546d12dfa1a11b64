"""A float32 run stays float32: no parameter is promoted to float64 by a numpy scalar or a bool
mask (NEP 50 promotion), which on the numpy backend broke DANN's second step and doubled memory."""

import numpy as np
import pytest

from bioplast.backends import get_backend
from bioplast.training import TrainConfig
from bioplast.training import model_for as build_model

CONFIGS = [
    {"rule": "backprop"},
    {"rule": "backprop", "network": "dann", "optimizer": "eg", "lr": 2.0},
    {"rule": "backprop", "network": "dann"},
    {"rule": "backprop", "network": "ei_mlp"},
    {
        "rule": "node_perturbation",
        "substrate": "pcm-differential",
        "rule_params": {"noise": "device", "estimator": "forward"},
    },
    {"rule": "weight_perturbation", "substrate": "reram-crossbar"},
    {"rule": "weight_perturbation", "substrate_params": {"gain_mismatch": 0.2, "offset_mismatch": 0.1}},
    {"rule": "backprop", "substrate_params": {"gain_mismatch": 0.2}},
    {"rule": "oja", "substrate": "loihi2-like"},
    {"rule": "eqprop", "optimizer": "adam", "lr": 1e-3},
]


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "-".join(str(v) for v in c.values())[:40])
def test_parameters_keep_the_run_dtype(backend, config):
    k = get_backend(backend, dtype="float32")
    model = build_model(k, TrainConfig(hidden=(16,), **config), 64, 10)
    rng = np.random.default_rng(0)
    x, t = k.asarray(rng.random((8, 64))), k.asarray(np.eye(10)[rng.integers(0, 10, 8)])
    for _ in range(2):
        model.train_batch(x, t)
    assert {str(k.to_numpy(p).dtype) for p in model.parameters()} == {"float32"}
