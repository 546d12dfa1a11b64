r"""Dale–Langevin multiplicative diffusion: a sign-preserving generative model.

"Dale meets Langevin: A Multiplicative Denoising Diffusion Model" (2025).
The forward process is geometric Brownian motion, per component,

    dX = μ X dt + σ X dW,

whose noise scales with the value, so no component ever changes sign (the
synaptic picture: multiplicative fluctuations of a weight of fixed sign).
In log space (the Lamperti transform ``Y = log|X|``) it is additive,
``dY = m dt + σ dW`` with ``m = μ − σ²/2``, so

    log|X_t| | X_0  ~  N(log|X_0| + m t,  σ² t)             (closed form)

and the log-moments of the data evolve as ``E → E + m t``, ``Var → Var + σ² t``.

Reverse samplers (Anderson 1982 for state-dependent diffusion ``g(x) = σx``):

* ambient:  ``dX = [μX − 2σ²X − σ²X² ∇ₓlog p_t(X)] dt + σX dW̄`` — the
  ``−∂ₓ(g²) = −2σ²X`` term is what a state-dependent noise adds;
* log-space (Lamperti): ``dY = [m − σ² ∇_y log p_t(Y)] dt + σ dW̄``,
  ``X = sign(X_T) e^Y``.  Each Euler step is ``X ← X ⊙ exp(ΔY)``: an
  exponentiated-gradient step with noise, and it never flips a sign.

Scores relate by ``∇_y log p_Y = x ∇ₓ log p_X + 1``.  Training is
multiplicative denoising score matching in log space: a network predicts the
noise ``ε`` of ``y_t = y_0 + m t + σ√t ε`` (so ``∇_y log p = −ε̂/(σ√t)``).

Data must be non-zero (``log|x|`` is undefined at 0: a :class:`DataError`
names how many entries are zero); negative entries are allowed and keep
their sign — shift non-negative data such as pixels away from 0 first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from bioplast.errors import DataError
from bioplast.optional import require
from bioplast.validate import array, positive, positive_int


class GBM(NamedTuple):
    """Forward process ``dX = μX dt + σX dW``."""

    mu: float = 0.0
    sigma: float = 1.0

    @property
    def m(self) -> float:
        """Drift of ``log|X|``: ``μ − σ²/2``."""
        return self.mu - self.sigma**2 / 2


def check_data(x) -> np.ndarray:
    a = array("data", x, floating=True)
    zeros = int((a == 0).sum())
    if zeros:
        raise DataError(
            f"multiplicative diffusion needs non-zero data: {zeros} entries are exactly 0 "
            "(log|x| is undefined there); shift non-negative data away from zero, e.g. x + 0.05"
        )
    return a


def forward_log_moments(log_mean, log_var, t: float, gbm: GBM):
    """Closed-form mean and variance of ``log|X_t|`` given those of ``log|X_0|``."""
    return log_mean + gbm.m * t, log_var + gbm.sigma**2 * t


def forward_sample(x0, t: float, gbm: GBM, rng):
    """Exact draw of ``X_t | X_0`` (log space); returns ``(x_t, ε)``."""
    x0 = check_data(x0)
    eps = rng.standard_normal(x0.shape)
    return np.sign(x0) * np.exp(np.log(np.abs(x0)) + gbm.m * t + gbm.sigma * np.sqrt(t) * eps), eps


def forward_euler(x0, t: float, steps: int, gbm: GBM, rng):
    """Euler–Maruyama in the ambient space, ``X ← X + μX Δ + σX √Δ ξ`` (an
    independent check of the closed form; can overshoot zero for large Δ)."""
    x = check_data(x0).astype(np.float64)
    dt = positive("t", t) / positive_int("steps", steps)
    for _ in range(steps):
        x = x + gbm.mu * x * dt + gbm.sigma * x * np.sqrt(dt) * rng.standard_normal(x.shape)
    return x


def sample_log_space(score_y: Callable, x_T, T: float, steps: int, gbm: GBM, rng, t_min: float = 0.0):
    """Reverse in log space from ``x_T`` at time ``T`` down to ``t_min``:
    ``y ← y − [m − σ² s_y(y, t)] Δ + σ √Δ ξ``, then ``x = sign(x_T) e^y``.
    ``score_y(y, t) = ∇_y log p_t(y)``.  Signs never change."""
    x_T = check_data(x_T)
    sign, y = np.sign(x_T), np.log(np.abs(x_T)).astype(np.float64)
    times = np.linspace(T, t_min, positive_int("steps", steps) + 1)
    for t, t_next in zip(times[:-1], times[1:], strict=True):
        dt = t - t_next
        drift = gbm.m - gbm.sigma**2 * score_y(y, t)
        y = y - drift * dt + gbm.sigma * np.sqrt(dt) * rng.standard_normal(y.shape)
    return sign * np.exp(y)


def sample_ambient(score_x: Callable, x_T, T: float, steps: int, gbm: GBM, rng, t_min: float = 0.0):
    """Reverse in the ambient space: ``x ← x − [μx − 2σ²x − σ²x² s_x(x, t)] Δ + σx √Δ ξ``,
    ``score_x(x, t) = ∇ₓ log p_t(x)``.  Euler steps can cross zero (counted by the caller)."""
    x = check_data(x_T).astype(np.float64)
    times = np.linspace(T, t_min, positive_int("steps", steps) + 1)
    s2 = gbm.sigma**2
    for t, t_next in zip(times[:-1], times[1:], strict=True):
        dt = t - t_next
        drift = gbm.mu * x - 2 * s2 * x - s2 * x * x * score_x(x, t)
        x = x - drift * dt + gbm.sigma * x * np.sqrt(dt) * rng.standard_normal(x.shape)
    return x


def lognormal_scores(log_mean: float, log_var: float, gbm: GBM):
    """Exact scores of GBM-diffused log-normal data (per component, either sign):
    ``log|X_t| ~ N(a_t, v_t)``, ``a_t = a + m t``, ``v_t = v + σ² t``.
    Returns ``(score_y, score_x)``."""

    def a_v(t):
        return log_mean + gbm.m * t, log_var + gbm.sigma**2 * t

    def score_y(y, t):
        a, v = a_v(t)
        return -(y - a) / v

    def score_x(x, t):  # ∇ₓ log p_X = (∇_y log p_Y − 1) / x at y = log|x|
        return (score_y(np.log(np.abs(x)), t) - 1) / x

    return score_y, score_x


# ---- learned score: multiplicative denoising score matching in log space ----------


def train_score_net(
    data,
    gbm: GBM,
    T: float,
    steps: int = 2000,
    batch: int = 128,
    hidden: int = 512,
    lr: float = 1e-3,
    seed: int = 0,
    t_min: float = 1e-3,
    progress: bool = False,
):
    """Fit ``ε̂(y_t, t)`` to the noise of ``y_t = y_0 + m t + σ√t ε`` (``t ~ U(t_min, T)``).

    Returns ``(net, losses)``; ``net(y, t)`` works on numpy arrays.  The
    trivial predictor ``ε̂ = 0`` has loss 1 (per component): the returned
    loss history says how far below that the network gets.
    """
    torch = require("torch", "the Dale–Langevin score network")

    x0 = check_data(data)
    y0 = torch.as_tensor(np.log(np.abs(x0)).reshape(len(x0), -1), dtype=torch.float32)
    dim = y0.shape[1]
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(dim + 2, hidden),
        torch.nn.SiLU(),
        torch.nn.Linear(hidden, hidden),
        torch.nn.SiLU(),
        torch.nn.Linear(hidden, dim),
    )
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    mean, std = y0.mean(0), y0.std(0) + 1e-3

    def features(y, t):
        # standardise by the diffused marginal's moments so the input stays O(1) at every t
        v = std**2 + gbm.sigma**2 * t
        z = (y - mean - gbm.m * t) / v.sqrt()
        return torch.cat([z, torch.log(t), torch.sqrt(t)], dim=1)

    from tqdm.auto import tqdm

    losses = []
    for _ in tqdm(range(positive_int("steps", steps)), desc="score matching", disable=not progress, leave=False):
        idx = torch.randint(0, len(y0), (batch,), generator=g)
        t = t_min + (T - t_min) * torch.rand(batch, 1, generator=g)
        eps = torch.randn(batch, dim, generator=g)
        yt = y0[idx] + gbm.m * t + gbm.sigma * torch.sqrt(t) * eps
        loss = ((model(features(yt, t)) - eps) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))

    def net(y, t):
        with torch.no_grad():
            yt = torch.as_tensor(y.reshape(len(y), -1), dtype=torch.float32)
            tt = torch.full((len(y), 1), float(t))
            return model(features(yt, tt)).numpy().astype(np.float64).reshape(y.shape)

    return net, losses, (mean.numpy().astype(np.float64), std.numpy().astype(np.float64) ** 2)


def learned_score_y(net, gbm: GBM):
    """``∇_y log p_t = −ε̂ / (σ√t)`` from a noise predictor."""
    return lambda y, t: -net(y, t) / (gbm.sigma * np.sqrt(t))


def denoise(net, x_t, t: float, gbm: GBM):
    """Tweedie's estimate of ``X_0`` from ``X_t`` in log space: ``y₀ = y_t − m t − σ√t ε̂``
    (the last step of sampling: the reverse SDE stops at ``t_min > 0``)."""
    x_t = check_data(x_t)
    y = np.log(np.abs(x_t))
    return np.sign(x_t) * np.exp(y - gbm.m * t - gbm.sigma * np.sqrt(t) * net(y, t))
