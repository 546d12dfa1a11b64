"""Saddle escape with one flipped readout neuron, and its controls (Ninou et al. 2025, Fig. 5).

tanh 100-10-1 teacher and student, readout ψ = tanh, large (r = 3) and small
(r = 0.3) initial weights, minibatches of 10; GD, curl descent (one hidden
unit's readout plasticity flipped), feedback alignment with and without the
flip, paired (same start, same samples).  Prints, per initial scale, how
often curl reached test error 1e-3 first and saves the median curves.  The
quick default is a short run; the committed benchmark
(benchmarks/curl_saddle.py) runs 400,000 steps with the linear control.

Run:  python examples/curl_saddle.py [--steps 20000] [--seeds 2] [--out results/curl_saddle.png]
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bioplast.experiments.curl import LEARNERS, saddle_escape  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=20000)
parser.add_argument("--seeds", type=int, default=2)
parser.add_argument("--activation", default="tanh", choices=("tanh", "identity"))
parser.add_argument("--out", default="results/curl_saddle.png")
args = parser.parse_args()

res = saddle_escape(args.activation, scales=(0.3, 3.0), seeds=args.seeds, steps=args.steps)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=True)
for i, (r, ax) in enumerate(zip(res.scales, axes, strict=True)):
    faster, decided = res.curl_faster(i)
    finals = ", ".join(f"{name} {np.median(res.test_error[:, i, j, -1]):.1e}" for j, name in enumerate(LEARNERS))
    print(
        f"initial scale r = {r}: curl reached 1e-3 first in {faster} of {decided} decided seeds; "
        f"median final test error: {finals}"
    )
    for j, name in enumerate(LEARNERS):
        ax.loglog(res.steps[1:], np.median(res.test_error[:, i, j], 0)[1:], label=name)
    ax.axhline(res.threshold, color="gray", ls=":")
    ax.set(title=f"{args.activation}, r = {r}", xlabel="step")
axes[0].set_ylabel("test error (median over seeds)")
axes[0].legend(fontsize=8)
fig.tight_layout()
Path(args.out).parent.mkdir(parents=True, exist_ok=True)
fig.savefig(args.out, dpi=150)
print(f"saved {args.out}")
