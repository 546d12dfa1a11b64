"""Anti-Hebbian lateral weights decorrelate a population (Földiák 1990).

Network ``y = x + M y``; lateral weights learn ``ΔM = −η ⟨y yᵀ⟩`` with the
diagonal masked out.  Prints the largest output correlation before/after.
"""

import numpy as np

from bioplast import Local, get_backend, plasticity
from bioplast.dynamics.lateral import lateral_response, max_offdiagonal_correlation
from bioplast.geometry import additive, masked
from bioplast.rules import anti_hebb

k = get_backend("numpy", dtype="float64")
rng = np.random.default_rng(0)
n = 6
mix = np.eye(n) + 0.5 * rng.standard_normal((n, n)) / np.sqrt(n)


def max_corr(m):
    return max_offdiagonal_correlation(lateral_response(m, rng.standard_normal((20000, n)) @ mix.T))


m = np.zeros((n, n))
learn = plasticity(anti_hebb(), masked(1 - np.eye(n)), additive(0.01))
state = learn.init(k, m)
print(f"largest |correlation| before: {max_corr(m):.3f}")
for _ in range(2000):
    y = lateral_response(m, rng.standard_normal((256, n)) @ mix.T)
    m, state = learn.step(k, Local(pre=y, post=y), state, m)
print(f"largest |correlation| after:  {max_corr(m):.3f}")
