"""Which geometry did learning use?  The test of Pogodin et al. (2024).

"Synaptic weight distributions depend on the geometry of plasticity" (ICLR
2024): mirror descent with potential ``φ`` moves the weights so that the
dual-space change ``Δ_φ = ∇φ(w_after) − ∇φ(w_before)`` is a sum of many
small gradient terms, hence close to Gaussian across synapses (in the regime
where weights change little relative to their spread), while the change seen
through any other potential is that Gaussian distorted synapse by synapse —
for log-normal weights, a heavy-tailed scale mixture.

For each candidate potential the change is standardised (zero mean, unit
variance per array, then pooled) and its distance to N(0, 1) measured by the
Kolmogorov–Smirnov statistic ``sup_z |F̂(z) − Φ(z)|``; the smallest distance
names the most likely geometry.  With ``n`` synapses a Gaussian sample sits
at ≈ 0.87/√n, which the report prints as the noise floor.
"""

from __future__ import annotations

import numpy as np

from bioplast.errors import DataError, unknown_name

# name: (dual map ∇φ(w), needs constant non-zero signs)
POTENTIALS = {
    "2-norm": (lambda w: w, False),
    "negative entropy": (lambda w: np.log(np.abs(w)), True),
    "3/2-norm": (lambda w: np.sign(w) * np.abs(w) ** 0.5, False),
    "3-norm": (lambda w: np.sign(w) * np.abs(w) ** 2, False),
}


def _ks_to_normal(z: np.ndarray) -> float:
    from scipy.special import ndtr

    z = np.sort(z)
    n = z.size
    cdf = ndtr(z)
    return float(max((np.arange(1, n + 1) / n - cdf).max(), (cdf - np.arange(n) / n).max()))


def _pairs(before, after) -> list:
    if isinstance(before, dict) or isinstance(after, dict):
        if not (isinstance(before, dict) and isinstance(after, dict)):
            raise DataError("geometry_test needs two arrays or two dicts of arrays")
        common = sorted(set(before) & set(after))
        if not common:
            raise DataError(f"no array names in common: before has {sorted(before)}, after has {sorted(after)}")
        return [(name, np.asarray(before[name], np.float64), np.asarray(after[name], np.float64)) for name in common]
    return [("weights", np.asarray(before, np.float64), np.asarray(after, np.float64))]


def geometry_test(before, after, potentials=None, min_size: int = 100) -> list:
    """Rows ``{potential, ks_distance, n, excluded}`` sorted by distance (best first).

    ``before``/``after``: arrays, or dicts of arrays (matched by name, e.g. the
    ``W0, W1, …`` of two ``weights.npz``).  The negative-entropy candidate
    needs weights that keep a non-zero sign; synapses that do not are
    excluded from that candidate and counted in ``excluded``.
    """
    names = list(POTENTIALS) if potentials is None else list(potentials)
    for n in names:
        if n not in POTENTIALS:
            raise unknown_name("potential", n, POTENTIALS)
    pairs = _pairs(before, after)
    for name, b, a in pairs:
        if b.shape != a.shape:
            raise DataError(f"{name}: before has shape {b.shape}, after {a.shape}")
        if not (np.isfinite(b).all() and np.isfinite(a).all()):
            raise DataError(f"{name}: weights must be finite")
    rows = []
    for pot in names:
        dual, needs_sign = POTENTIALS[pot]
        pooled, excluded = [], 0
        for _, b, a in pairs:
            keep = (np.sign(b) == np.sign(a)) & (b != 0) if needs_sign else np.ones(b.shape, bool)
            excluded += int((~keep).sum())
            delta = dual(a[keep]) - dual(b[keep])
            if delta.size < 2 or delta.std() == 0:
                continue
            pooled.append((delta - delta.mean()) / delta.std())
        z = np.concatenate(pooled) if pooled else np.zeros(0)
        if z.size < min_size:
            rows.append({"potential": pot, "ks_distance": float("inf"), "n": int(z.size), "excluded": excluded})
            continue
        rows.append({"potential": pot, "ks_distance": _ks_to_normal(z), "n": int(z.size), "excluded": excluded})
    if all(r["ks_distance"] == float("inf") for r in rows):
        raise DataError(f"too few changed synapses to test (need ≥ {min_size} per candidate)")
    return sorted(rows, key=lambda r: r["ks_distance"])
