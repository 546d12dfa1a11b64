"""Hand-derived cases and theory for hebb, anti_hebb, oja, bcm, delta.

The hand-derived cases use small integers and halves: every product, sum and division by the
batch size is exactly representable in float64, so the rules' results are exact on any machine
(whatever the BLAS's summation order) and are asserted equal, not close.
"""

import numpy as np
import pytest

from bioplast import ConfigError, DataError, Local, get_backend, plasticity
from bioplast.dynamics.lateral import lateral_response, max_offdiagonal_correlation
from bioplast.geometry import additive, masked
from bioplast.rules import anti_hebb, bcm, delta, hebb, oja

K = get_backend("numpy", dtype="float64")


def _dir(rule, pre, post, w, mod=None, state=None):
    w = np.array(w, float)
    s = rule.init(K, w) if state is None else state
    return rule.update(
        K,
        Local(np.array(pre, float), np.array(post, float), None if mod is None else np.array(mod, float)),
        s,
        np.array(w, float),
    )


def test_hebb_hand_derived():
    # batch of 2: x = [1, 2], y = [3] and x = [0, 1], y = [-1]
    # ΔW = mean(y xᵀ) = ([3, 6] + [0, -1]) / 2 = [1.5, 2.5]
    d, _ = _dir(hebb(), [[1, 2], [0, 1]], [[3], [-1]], [[0.0, 0.0]])
    np.testing.assert_array_equal(d, [[1.5, 2.5]])  # exact: see the module docstring
    d, _ = _dir(anti_hebb(), [[1, 2], [0, 1]], [[3], [-1]], [[0.0, 0.0]])
    np.testing.assert_array_equal(d, [[-1.5, -2.5]])


def test_oja_hand_derived():
    # x = [1, 0], y = 2, W = [0.5, 0.5]: ΔW = y x − y² W = [2, 0] − 4·[0.5, 0.5] = [0, −2]
    d, _ = _dir(oja(), [[1, 0]], [[2]], [[0.5, 0.5]])
    np.testing.assert_array_equal(d, [[0.0, -2.0]])  # exact: integers and halves


def test_bcm_hand_derived_and_threshold():
    # θ starts at 0.5; y = 2, x = [1, 1]: ΔW = y (y − θ) x = 2·1.5 = 3 per synapse;
    # θ ← 0.5 + (4 − 0.5)/10 = 0.85
    rule = bcm(tau_theta=10, theta0=0.5)
    d, st = _dir(rule, [[1, 1]], [[2]], [[0.0, 0.0]])
    np.testing.assert_array_equal(d, [[3.0, 3.0]])  # exact: integers and halves
    # the rule computes θ + (⟨y²⟩ − θ)/τ with ⟨y²⟩ = 4 exact: the same two correctly rounded
    # operations as this expression, so the result is equal bit for bit
    np.testing.assert_array_equal(st.theta, [0.5 + (4.0 - 0.5) / 10])


def test_delta_hand_derived():
    # m = [1, -1], x = [2, 3]: ΔW = m xᵀ = [[2, 3], [-2, -3]]
    d, _ = _dir(delta(), [[2, 3]], [[0, 0]], np.zeros((2, 2)), mod=[[1, -1]])
    np.testing.assert_array_equal(d, [[2, 3], [-2, -3]])  # exact: integer products


def test_oja_converges_to_unit_principal_eigenvector():
    rng = np.random.default_rng(0)
    n = 8
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    cov = q @ np.diag(np.linspace(4.0, 0.5, n)) @ q.T  # clear spectral gap 4 vs 3.5
    chol = np.linalg.cholesky(cov)
    v1 = np.linalg.eigh(cov)[1][:, -1]
    p = plasticity(oja(), additive(2e-3))
    w = rng.standard_normal((3, n)) * 0.1  # three independent neurons
    state = p.init(K, w)
    for _ in range(6000):
        x = rng.standard_normal((32, n)) @ chol.T
        w, state = p.step(K, Local(x, x @ w.T), state, w)
    norms = np.linalg.norm(w, axis=1)
    cos = np.abs(w @ v1) / norms
    # stochastic fixed point: fluctuations of size O(√(lr/B)) around ±v1 (B = 32 samples per
    # step) — a statistical bound, not a rounding tolerance
    np.testing.assert_allclose(norms, 1.0, atol=0.03)
    assert cos.min() > 0.99, cos


def test_bcm_becomes_selective():
    """Two orthogonal input patterns presented at random: the BCM neuron ends
    up responding to one and not the other (Intrator & Cooper 1992)."""
    rng = np.random.default_rng(1)
    patterns = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]]) + 0.05
    p = plasticity(bcm(tau_theta=20.0), additive(0.02))
    w = np.array([[0.3, 0.28, 0.1, 0.1]])  # nearly unselective start
    state = p.init(K, w)

    def selectivity(w):
        r = np.maximum(patterns @ w[0], 0)
        return 1 - r.mean() / r.max()

    start = selectivity(w)
    for _ in range(4000):
        x = patterns[rng.integers(0, 2, size=1)]
        w, state = p.step(K, Local(x, x @ w.T), state, w)
    # perfect selectivity for 2 patterns is 1 − 1/2 = 0.5
    assert start < 0.05
    assert selectivity(w) > 0.45


def test_anti_hebbian_lateral_weights_decorrelate_outputs():
    """Földiák network y = x + M y; ΔM = −⟨y yᵀ⟩ off the diagonal."""
    rng = np.random.default_rng(2)
    n = 5
    mix = np.eye(n) + 0.6 * rng.standard_normal((n, n)) / np.sqrt(n)

    def max_offdiag_corr(m):
        return max_offdiagonal_correlation(lateral_response(m, rng.standard_normal((20000, n)) @ mix.T))

    m = np.zeros((n, n))
    p = plasticity(anti_hebb(), masked(1 - np.eye(n)), additive(0.01))
    state = p.init(K, m)
    before = max_offdiag_corr(m)
    for _ in range(3000):
        # batch 512 keeps the stochastic fluctuation of M, O(√(lr/B)), well below the 0.05 bound
        x = rng.standard_normal((512, n)) @ mix.T
        y = lateral_response(m, x)
        m, state = p.step(K, Local(y, y), state, m)
    assert np.all(np.diag(m) == 0)
    assert before > 0.3, before
    assert max_offdiag_corr(m) < 0.05


def test_bad_parameters_and_signals():
    with pytest.raises(ConfigError, match="tau_theta"):
        bcm(tau_theta=-1)
    with pytest.raises(ConfigError, match="lr"):
        additive(float("nan"))
    p = plasticity(oja(), additive(0.1))
    w = np.zeros((3, 4))
    with pytest.raises(DataError, match=r"pre must have shape \(B, 4\)"):
        p.update(K, Local(np.zeros((2, 5)), np.zeros((2, 3))), p.init(K, w), w)
    with pytest.raises(DataError, match="post must have shape"):
        p.update(K, Local(np.zeros((2, 4)), np.zeros((2, 2))), p.init(K, w), w)
    d = plasticity(delta(), additive(0.1))
    with pytest.raises(ConfigError, match="reads a modulator"):
        d.update(K, Local(np.zeros((2, 4)), np.zeros((2, 3))), d.init(K, w), w)
    with pytest.raises(ConfigError, match="needs a Rule"):
        plasticity(additive(0.1))
