"""Unsupervised STDP in a spiking network (Diehl & Cook 2015), checked against Brian2.

1. A small Diehl & Cook network learns digits with STDP and adaptive
   thresholds, one online pass; neurons are labelled by their preferred class
   and vote on the test digits.  (The full N = 400 MNIST-5k experiment and
   the speed comparison with Brian2 are in ``benchmarks/diehl_cook.py``.)
2. The same spiking description is rebuilt in Brian2 for a short run: the
   membrane traces and STDP weights agree.

Run:  python examples/spiking_stdp.py [--neurons 50] [--train 400] [--task digits]
"""

import argparse

import numpy as np

from bioplast.data.datasets import load_task
from bioplast.data.encoders import poisson
from bioplast.dynamics.spiking.engine import simulate
from bioplast.models.diehl_cook import DiehlCook, DiehlCookConfig, build_network

parser = argparse.ArgumentParser()
parser.add_argument("--neurons", type=int, default=50)
parser.add_argument("--train", type=int, default=400, help="training digits (one pass)")
parser.add_argument("--task", default="digits", help="digits (8×8) or mnist5k (28×28)")
args = parser.parse_args()

data = load_task(args.task, seed=0)
# 8×8 digits have 12× fewer pixels than MNIST: scale the incoming weight total with the input size
cfg = DiehlCookConfig(n_neurons=args.neurons, weight_total=78.0 * data.n_features / 784)
model = DiehlCook(n_inputs=data.n_features, config=cfg, seed=0)
log = model.train(data.x_train[: args.train], progress=True)
model.assign_labels(model.responses(data.x_train[: args.train]), data.y_train[: args.train])
pred = model.predict(model.responses(data.x_test))
print(
    f"Diehl & Cook, {args.neurons} neurons, one pass over {args.train} {args.task} digits: "
    f"test accuracy {np.mean(pred == data.y_test):.3f} (chance 0.100); "
    f"mean excitatory spikes per training digit {log.counts.sum(1).mean():.1f}"
)

try:
    from bioplast.reference.brian2_ref import run_brian2
except ImportError:  # Brian2 is optional at run time
    run_brian2 = None
if run_brian2 is not None:
    net = build_network(cfg, model.weights[:, :], learning=True)
    x = {"input": poisson(data.x_test[:1] * cfg.max_rate, 200, cfg.dt, seed=1)}
    ours, rec = simulate(net, x, backend="numpy", record=("v",))
    ref = run_brian2(net, x)
    dv = np.abs(rec.v["exc"][:, 0] - ref.v["exc"]).max()
    dw = np.abs(ours.weights[0] - ref.weights["input->exc"]).max()
    print(f"Brian2 check over 100 ms: max |Δv| = {dv:.2e} V, max |ΔW| = {dw:.2e} (float32 vs Brian2's float64)")
