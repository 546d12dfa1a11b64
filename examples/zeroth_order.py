"""Zeroth-order learning: no backward pass, a global reinforcement signal, and noise as the probe.

1. How well does one step's estimate point along −∇L?  Weight perturbation (a probe on every
   synapse) against node perturbation (a probe on every neuron), for a few probe counts.
2. On a substrate that reads its weights noisily, node perturbation can use that read noise as
   its probe instead of injecting its own (arXiv:2510.18812: noise as a resource).

Run:  python examples/zeroth_order.py  (benchmarks/zeroth_order.py is the full study)
"""

import importlib

import numpy as np

from bioplast.analysis.alignment import alignment_with_backprop
from bioplast.backends import get_backend
from bioplast.data import load_task, one_hot
from bioplast.dynamics.feedforward import init_mlp
from bioplast.hardware import DeviceProfile
from bioplast.rules import get_rule
from bioplast.training import TrainConfig, train

k = get_backend("numpy", dtype="float64")
data = load_task("digits", 0)
x, t = k.asarray(data.x_train[:32]), k.asarray(one_hot(data.y_train[:32], data.n_classes))
params = init_mlp(k, [data.n_features, 32, data.n_classes], seed=0)

print("cosine of one step's estimate with backprop (mean of 5 probe sets):")
for probes in (1, 16, 128):
    wp = alignment_with_backprop(k, params, x, t, get_rule("weight_perturbation", probes=probes), steps=5)
    npert = alignment_with_backprop(k, params, x, t, get_rule("node_perturbation", probes=probes), steps=5)
    print(f"  {probes:4d} probes: weight perturbation {wp.mean():.3f}, node perturbation {npert.mean():.3f}")

# a float-weight device whose every read is off by 5 % of the range (registered for this process)
substrates = importlib.import_module("bioplast.hardware.substrates")
substrates.PRESETS["noisy-read"] = DeviceProfile("noisy-read", bounds="none", read_noise=0.05)
common = dict(rule="node_perturbation", task="digits", epochs=3, hidden=(32,), lr=0.05, substrate="noisy-read")
injected = train(TrainConfig(**common, rule_params={"probes": 4}), progress=False)
device = train(
    TrainConfig(**common, rule_params={"probes": 4, "noise": "device", "estimator": "forward"}), progress=False
)
print("node perturbation on the noisy device, test accuracy per epoch:")
print("  injected probes:     ", np.round([r["test_acc"] for r in injected], 3))
print("  read noise as probe: ", np.round([r["test_acc"] for r in device], 3))
