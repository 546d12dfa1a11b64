"""Saddle escape with one rule-flipped readout neuron (Ninou, Kadmon & Cayco-Gajic 2025, Fig. 5b).

The paper's protocol (``bioplast.experiments.saddle.SaddleProtocol``): tanh 100-10-1 teacher and
student, weights uniform in ±g/√fan-in (teacher g = 1) and ±r/√fan-in (student r = 2), Frobenius
norms held, full-batch steps of 0.1, time to test loss 1e-3 for GD, curl descent (one hidden unit's
readout plasticity flipped), feedback alignment and FA with the flip — paired on the same start.
The quick defaults use 500 training samples and 3,000 steps; `bioplast reproduce curl-saddle` runs
every panel of the figure with its controls at 2,000 samples.

Run:  python examples/curl_saddle.py [--n-train 2000] [--steps 20000] [--seeds 5] [--scale 2]
"""

import argparse
from pathlib import Path

import numpy as np

from bioplast.bench.lab import plot_saddle
from bioplast.experiments.saddle import saddle_escape

parser = argparse.ArgumentParser()
parser.add_argument("--n-train", type=int, default=500)
parser.add_argument("--steps", type=int, default=3000)
parser.add_argument("--seeds", type=int, default=2)
parser.add_argument("--scale", type=float, default=2.0, help="initial scale r of the student's weights")
parser.add_argument("--activation", default="tanh", choices=("tanh", "identity"))
parser.add_argument("--out", default="results/curl_saddle.png")
args = parser.parse_args()

protocol = {"activation": args.activation, "n_train": args.n_train, "max_steps": args.steps, "init_scale": args.scale}
res = saddle_escape(protocol, seeds=args.seeds)
faster, decided = res.curl_faster(0)
print(f"{args.activation}, r = {args.scale}: curl reached test loss 1e-3 first in {faster} of {decided} decided seeds")
for j, learner in enumerate(res.learners):
    hits = res.hit[:, 0, j]
    shown = ", ".join("—" if np.isinf(h) else f"{h:.0f}" for h in hits)
    print(f"  {learner:10s} steps to 1e-3 per seed: {shown}")
Path(args.out).parent.mkdir(parents=True, exist_ok=True)
plot_saddle(res, args.out)
print(f"saved {args.out}")
