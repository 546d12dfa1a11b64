"""The curl lab in a few lines: a sweep across flip fractions, and "how non-gradient is my rule?".

1. Linear 10-20-1 student next to its teacher (c = 1/2, white inputs): one
   call runs every flip fraction of the hidden layer's plasticity at once
   (numba, parallel over runs); the stability matrix predicts which
   converge (Ninou, Kadmon & Cayco-Gajic 2025).
2. The curl ρ = ‖(J − Jᵀ)/2‖/‖J‖ of the weight-update field of registered
   rules on one batch of digits: 0 for gradient rules, > 0 for flips,
   feedback alignment and asymmetric generalized EP.
3. STDP's curl, on its expected update field for Poisson (escape-noise)
   neurons: timing alone makes it non-gradient when the input has a
   temporal order, and a time-symmetric input (a palindrome) makes it a
   gradient flow again.

Run:  python examples/curl_lab.py
"""

import numpy as np

from bioplast.analysis.curl_field import rule_curl
from bioplast.analysis.stdp_field import palindrome, sequence_raster, stdp_curl
from bioplast.data.teacher import TeacherTask
from bioplast.dynamics import student_teacher as st
from bioplast.rules import get_rule
from bioplast.rules.curl import flip_signs
from bioplast.training import TrainConfig

n, m = 20, 10
rng = np.random.default_rng(0)
w1, w2 = rng.standard_normal((n, m)) / np.sqrt(m), rng.standard_normal((1, n)) / np.sqrt(n)
x = np.sqrt(m) * np.eye(m)  # ⟨xxᵀ⟩ = I
task = TeacherTask(x, x @ w1.T @ w2.T, x, x @ w1.T @ w2.T, w1, w2, "identity")
fractions = np.linspace(0, 1, 6)
d1 = np.stack([flip_signs(m, f, seed=1) for f in fractions])
start1 = w1 + 1e-4 * rng.standard_normal((len(fractions), n, m))
start2 = w2 + 1e-4 * rng.standard_normal((len(fractions), 1, n))
with np.errstate(over="ignore", invalid="ignore"):
    runs = st.sweep(start1, start2, task, lr=0.02, steps=20000, d1=d1, records=3)
for f, d, loss in zip(fractions, d1, runs.train_error[:, -1], strict=True):
    lam = np.linalg.eigvalsh(st.stability_matrix(w1, w2, d, np.ones(n))).min()
    outcome = f"final loss {loss:.1e}" if np.isfinite(loss) else "diverged"
    print(f"hidden-layer flips {f:4.0%}: λ_min(A) = {lam:+.3f} ({'stable' if lam > 0 else 'unstable'}), {outcome}")

for label, cfg in [
    ("backprop", TrainConfig(rule="backprop", hidden=(16,))),
    ("curl 30% flipped", TrainConfig(rule="curl", hidden=(16,), rule_params={"fraction": 0.3})),
    ("feedback alignment", TrainConfig(rule="feedback_alignment", hidden=(16,))),
    ("generalized EP, asymmetry 1", TrainConfig(rule="gen_eqprop", hidden=(32,), rule_params={"asymmetry": 1.0})),
]:
    print(f"curl of {label:<28} ρ = {rule_curl(cfg, coords=60).rho:.3g}")

sequence = sequence_raster(8, 150, trials=2)  # inputs 0, 1, …, 7 firing in order, repeated
for label, raster in (("a repeated sequence", sequence), ("the sequence and its reversal", palindrome(sequence))):
    rho = stdp_curl(get_rule("pair_stdp"), raster, np.full((2, 8), 2.0)).rho
    print(f"curl of pair STDP on {label:<30} ρ = {rho:.3g}")
