"""Dale–Langevin multiplicative diffusion against closed forms.

Log-normal data (log|x| ~ N(a, v), 30 % negative) diffused by GBM stays
log-normal, so its scores are exact; both reverse samplers must then return
the data's log-moments.  Tolerance 1 % (the issue's bound): sampling error
with 100,000 draws is 0.3 % (mean) and 0.45 % (variance) at one standard
deviation, and 500 Euler steps add ≈ 0.4 % (measured 0.2–0.5 % at 1,000
steps, 0.9–1.3 % at 200; a weak order-1 scheme's bias ∝ Δt makes that
0.36–0.52 % at 500).
"""

import numpy as np
import pytest

from bioplast import DataError
from bioplast.experiments.dale_langevin import (
    GBM,
    denoise,
    forward_euler,
    forward_log_moments,
    forward_sample,
    lognormal_scores,
    sample_ambient,
    sample_log_space,
    train_score_net,
)
from bioplast.testing import LIBM_ULPS
from bioplast.testing import eps as machine_eps

A, V, N = 0.5, 0.25, 100_000
G = GBM(mu=0.2, sigma=0.8)


def _lognormal(rng, a, v, n):
    return np.where(rng.random(n) < 0.3, -1.0, 1.0) * np.exp(a + np.sqrt(v) * rng.standard_normal(n))


def test_forward_log_moments_match_the_closed_form():
    """Ambient Euler–Maruyama (no log-space shortcut) against E + m t, Var + σ² t.  Sampling: the
    log-mean's standard error is √(Var/N) ≤ √(0.89/10⁵) = 0.003, the variance's √(2/N) = 0.45 %
    relative; Euler–Maruyama's bias at Δt = 1/400 is O(σ⁴ t Δt): ≈ 5e-4 on the mean, ≈ 0.2 % on the
    variance.  So abs 0.01 and rel 1.5 % are ≈ 3 standard errors above the bias."""
    rng = np.random.default_rng(0)
    x0 = _lognormal(rng, A, V, N)
    for t in (0.5, 1.0):
        x = forward_euler(x0, t, 400, G, rng)
        mean, var = forward_log_moments(A, V, t, G)
        ly = np.log(np.abs(x))
        assert ly.mean() == pytest.approx(mean, abs=0.01) and ly.var() == pytest.approx(var, rel=0.015)
        assert (np.sign(x) == np.sign(x0)).all()
    xs, eps = forward_sample(x0, 1.0, G, rng)
    # at t = 1 the sampler's exponent y = log|x₀| + m + σε is this same expression, in this order, so
    # log|x_t| = log(e^y) differs from y only by exp's and log's own errors, ≤ LIBM_ULPS ulp each:
    # |Δ| ≤ LIBM_ULPS ε (1 + |y|) (to first order)
    y = np.log(np.abs(x0)) + G.m + G.sigma * eps
    assert np.all(np.abs(np.log(np.abs(xs)) - y) <= LIBM_ULPS * machine_eps("float64") * (1 + np.abs(y)))


@pytest.mark.parametrize("sampler", ["log_space", "ambient"])
def test_reverse_samplers_recover_the_data_log_moments(sampler):
    rng = np.random.default_rng(1)
    score_y, score_x = lognormal_scores(A, V, G)
    a_T, v_T = forward_log_moments(A, V, 1.0, G)
    x_T = _lognormal(rng, a_T, v_T, N)
    if sampler == "log_space":
        x = sample_log_space(score_y, x_T, 1.0, 500, G, rng)
        assert (np.sign(x) == np.sign(x_T)).all()  # sign-preserving by construction: zero flips
    else:
        x = sample_ambient(score_x, x_T, 1.0, 500, G, rng)
    ly = np.log(np.abs(x))
    assert ly.mean() == pytest.approx(A, rel=0.01)
    assert ly.var() == pytest.approx(V, rel=0.01)


def test_score_network_beats_the_trivial_predictor_and_denoises():
    """Positive MNIST-5k pixels (x + 0.05): ε-prediction loss well below 1 (ε̂ = 0) after a short fit."""
    from bioplast.data import load_task

    x = load_task("mnist5k", 0).x_train[:1000] + 0.05
    net, losses, _ = train_score_net(x, GBM(0.0, 1.0), T=5.0, steps=400, batch=64, hidden=256, lr=2e-3)
    assert np.mean(losses[:5]) > 0.95 and np.mean(losses[-30:]) < 0.85  # trivial ε̂ = 0: 1.0; measured 0.77
    rng = np.random.default_rng(0)
    xt, _ = forward_sample(x[:64], 0.05, GBM(0.0, 1.0), rng)
    err_noisy = np.mean((np.log(xt) - np.log(x[:64])) ** 2)
    err_denoised = np.mean((np.log(denoise(net, xt, 0.05, GBM(0.0, 1.0))) - np.log(x[:64])) ** 2)
    assert err_denoised < err_noisy


def test_zero_data_is_refused_and_negative_data_keeps_its_sign():
    with pytest.raises(DataError, match="2 entries are exactly 0"):
        forward_sample(np.array([0.0, 1.0, 0.0]), 1.0, G, np.random.default_rng(0))
    x, _ = forward_sample(np.array([-2.0, 3.0]), 4.0, G, np.random.default_rng(0))
    assert x[0] < 0 < x[1]
