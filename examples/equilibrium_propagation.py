"""Equilibrium propagation, the whole family, in a few lines each.

1. Check the estimators against the autograd oracle (backprop through the
   relaxation): one-sided, symmetric, and holomorphic EP, which is exact at a
   finite nudge |β| = 0.5.
2. Generalized EP with non-symmetric feedback: alignment with backprop falls
   as the feedback weights depart from Wᵀ.
3. Train symmetric EP on sklearn digits.

Run:  python examples/equilibrium_propagation.py [--epochs 3]
"""

import argparse

import numpy as np

from bioplast import get_backend
from bioplast.analysis.gradcheck import cosine, relative_error
from bioplast.data import load_task, one_hot
from bioplast.dynamics.equilibrium import ep_estimate
from bioplast.models.ep import init_epnet
from bioplast.reference.ep_oracle import bptt_gradient
from bioplast.training import TrainConfig, train

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()

data = load_task("digits", 0)
x, y = data.x_train[:32].astype(np.float64), one_hot(data.y_train[:32], 10).astype(np.float64)
k = get_backend("numpy", dtype="float64")


def check(net, **kw):
    """EP estimate of −∂L/∂θ against float64 backprop through the same nudged steps."""
    est = ep_estimate(k, net, x, y, free_steps=60, nudge_steps=40, **kw)
    host = [list(g) if g is not None else None for g in net]
    ref = bptt_gradient(
        host[0], host[1], x, y, free_steps=60, bptt_steps=40, feedback=host[2], readout=host[3], dt=kw.get("dt", 1.0)
    )
    e = -np.concatenate([a.ravel() for a in est.weights + est.biases + est.feedback + est.readout])
    r = np.concatenate([a.ravel() for a in ref.weights + ref.biases + ref.feedback + ref.readout])
    return cosine(e, r), relative_error(e, r)


# 1. estimators on a 64-32 network with a softmax readout (cross-entropy cost)
net = init_epnet(k, [64, 32, 10], seed=0, cost="cross_entropy")
print("estimator             β     cosine      rel. error")
for est, beta, extra in [("one_sided", 0.1, {}), ("symmetric", 0.1, {}), ("holomorphic", 0.5, {"points": 12})]:
    c, e = check(net, beta=beta, estimator=est, cost="cross_entropy", **extra)
    print(f"{est:<20} {beta:<5} {c:.8f}  {e:.2e}")

# 2. generalized EP: feedback B = (1 − a) Wᵀ + a R
print("\nasymmetry a  cosine(generalized EP, backprop)")
for a in (0.0, 0.5, 1.0):
    net = init_epnet(k, [64, 32, 10], seed=0, cost="mse", asymmetry=a)
    c, _ = check(net, beta=0.01, estimator="symmetric", dt=0.5)
    print(f"{a:<12} {c:.4f}")

# 3. training: symmetric EP with a softmax readout, Adam, on digits
records = train(
    TrainConfig(
        rule="eqprop",
        task="digits",
        backend="numba",
        epochs=args.epochs,
        lr=2e-3,
        optimizer="adam",
        hidden=(128,),
        rule_params={"cost": "cross_entropy"},
    ),
    progress=False,
)
print(f"\nsymmetric EP on digits: test accuracy {records[-1]['test_acc']:.3f} after {args.epochs} epochs")
