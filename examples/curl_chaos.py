"""Curl descent either side of the stability threshold: converging vs chaotic learning.

A tanh student learns a teacher of the same shape (40 inputs, 10 hidden:
compressive, c = 4) from next to the teacher's solution, with plain gradient
descent and with every input's plasticity flipped (curl descent, Ninou et al.
2025; a single flipped input already destabilises c ≥ 2/3). Weights are
renormalised after each step, so they stay bounded either way. Printed: the
largest Lyapunov exponent and the non-convergence order parameter; saved:
the training error of both runs over time.

Run:  python examples/curl_chaos.py [--steps 2000] [--out results/curl_chaos.png]
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bioplast.analysis.chaos import lyapunov_exponent, nonconvergence  # noqa: E402
from bioplast.data import teacher_student  # noqa: E402
from bioplast.dynamics import student_teacher as st  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--steps", type=int, default=2000)
parser.add_argument("--out", default="results/curl_chaos.png")
args = parser.parse_args()

task = teacher_student(40, 10, 1, 200, 100, "tanh", seed=0)
rng = np.random.default_rng(2)
w1 = task.w1 + 1e-3 * rng.standard_normal(task.w1.shape)
w2 = task.w2 + 1e-3 * rng.standard_normal(task.w2.shape)
fig, ax = plt.subplots(figsize=(5, 3.5))
for label, d1 in (("gradient descent", None), ("all inputs flipped (curl)", -np.ones(40))):
    lyap = lyapunov_exponent(w1, w2, task, 0.1, args.steps, d1=d1)
    q = nonconvergence(task, 0.1, args.steps, d1=d1)
    r = st.run(w1, w2, task, 0.1, args.steps, d1=d1, renormalise=True)
    ax.loglog(np.maximum(r.steps, 1) * 0.1, r.train_error, label=f"{label}: λ = {lyap.exponent:+.3f}")
    print(
        f"{label:<28} Lyapunov exponent {lyap.exponent:+.4f} per unit time, order parameter q = {q:+.2f}, "
        f"final training error {lyap.final_error:.2e}"
    )
ax.set_xlabel("learning time η·step")
ax.set_ylabel("training error")
ax.legend(fontsize=8)
fig.tight_layout()
Path(args.out).parent.mkdir(parents=True, exist_ok=True)
fig.savefig(args.out, dpi=150)
print(f"saved {args.out}")
