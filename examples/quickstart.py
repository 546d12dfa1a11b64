"""Quickstart: compose a rule with a geometry and run it on any backend.

Oja's rule on correlated Gaussian inputs finds the principal component.
Run:  python examples/quickstart.py [--backend numba]
"""

import argparse

import numpy as np

from bioplast import Local, get_backend, plasticity
from bioplast.geometry import additive
from bioplast.rules import oja

parser = argparse.ArgumentParser()
parser.add_argument("--backend", default="numpy", help="numpy, numba or torch")
parser.add_argument("--steps", type=int, default=3000)
args = parser.parse_args()

k = get_backend(args.backend, dtype="float64")
rng = np.random.default_rng(0)
cov = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 0.5]])
chol = np.linalg.cholesky(cov)
pc1 = np.linalg.eigh(cov)[1][:, -1]

learn = plasticity(oja(), additive(5e-3))  # WHAT changes, then HOW it moves
w = k.asarray(rng.standard_normal((1, 3)) * 0.1)  # W[n_post, n_pre]
state = learn.init(k, w)
for _ in range(args.steps):
    x = k.asarray(rng.standard_normal((16, 3)) @ chol.T)
    y = k.linear(x, w)  # the neuron's response
    w, state = learn.step(k, Local(pre=x, post=y), state, w)

w = k.to_numpy(w)[0]
print(
    f"backend {args.backend}: |w| = {np.linalg.norm(w):.3f} (theory 1), "
    f"|cos(w, PC1)| = {abs(w @ pc1) / np.linalg.norm(w):.4f} (theory 1)"
)
