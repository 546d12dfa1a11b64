r"""The network side of zeroth-order learning: perturbed forward passes and the reinforcement signal.

A zeroth-order rule (:mod:`bioplast.rules.perturbation`) only correlates a
global reinforcement ``r`` with a probe; this module runs the trials that
produce ``r``.  For a probe ``ξ`` of size ``σ`` and losses ``L``::

    antithetic   r = −[L(+σξ) − L(−σξ)] / (2σ)        two passes per probe, bias O(σ²), no L(0) term
    forward      r = −[L(+σξ) − L(0)] / σ             the clean pass is the baseline
    running      r = −[L(+σξ) − b] / σ,  b ← b + α(L̄(+σξ) − b)   REINFORCE with a running baseline
                                                      (Williams 1992), no extra pass; α = 0.1
    none         r = −L(+σξ) / σ                      unbiased (E ξ = 0) but with the loss's full
                                                      variance: the control for the baselines

To first order ``r = −∇L·ξ`` (plus zero-mean noise), so ``E[r ξ] = −∇L``:
weight perturbation correlates ``r`` with each weight's probe, node
perturbation with each neuron's (times its input, which gives ``−∂L/∂W``).

With a substrate that reads its weights noisily (``DeviceProfile.read_noise``),
every pass here is a noisy read, and node perturbation can take that read
noise *as* its probe (``noise="device"``): two reads of the same sample,
``ℓ_B − ℓ_A`` as the reinforcement and pass ``B``'s own read noise ``ν`` as
the perturbation, ``ĝ_a = (ℓ_B − ℓ_A) ν / s²`` with ``s = σ_read S ‖h‖`` the
noise's known standard deviation.  ``E[(ℓ_B − ℓ_A) ν] = s² ∇_a ℓ`` to first
order because pass ``A``'s noise is independent of ``ν``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from bioplast.core import Local
from bioplast.dynamics.feedforward import MLPParams, combine_noise, forward, sample_losses

RUNNING_RATE = 0.1  # α of the running baseline: about the last ten steps


class PerturbationState(NamedTuple):
    step: int  # trial counter: seeds the node and bias probes of each step
    baseline: float  # running mean of the perturbed loss (estimator "running"); set on the first step


class Trials(NamedTuple):
    """What one step of trials gives the learner: per-layer signals for the rule, per-layer bias
    directions, the step's loss (for logging) and the new learner state."""

    signals: list
    bias_directions: list
    loss: float
    state: PerturbationState


def reinforcement(probe_loss: np.ndarray, reference, sigma: float, estimator: str) -> np.ndarray:
    """``r`` from the perturbed losses and the estimator's reference (``L(−σξ)``, ``L(0)``, ``b`` or 0)."""
    scale = 2 * sigma if estimator == "antithetic" else sigma
    return -(probe_loss - reference) / scale


def _reference(estimator: str, state: PerturbationState, probe_loss, other_pass: Callable):
    """The estimator's reference value and the updated running baseline."""
    mean = float(np.mean(probe_loss))
    if estimator in ("antithetic", "forward"):
        return other_pass(), state.baseline
    if estimator == "running":
        b = mean if state.step == 0 else state.baseline
        return b, b + RUNNING_RATE * (mean - b)
    return 0.0, state.baseline


def _host(k, a) -> np.ndarray:
    return np.asarray(k.to_numpy(a), dtype=np.float64)


def _losses(k, params, x, target, activation, loss, noise) -> np.ndarray:
    _, out = forward(k, params, x, activation, noise)
    return _host(k, sample_losses(k, out, target, loss))


def _batch_means(k, inputs, out):
    """Each layer's batch-mean input and output: ``[(pre, post)]``."""
    acts = list(inputs[1:]) + [out]
    return [(k.batch_mean(h), k.batch_mean(a)) for h, a in zip(inputs, acts, strict=True)]


def weight_perturbation_signals(
    k,
    params: MLPParams,
    x,
    target,
    activation: str,
    loss: str,
    probes: list,
    bias_probes: list,
    sigma: float,
    estimator: str,
    state: PerturbationState,
    next_read: Callable[[], Callable | None],
) -> Trials:
    """Run the weight-perturbation trials of one step.

    ``probes[l]`` are the rule's ``ξ[P, n_post, n_pre]`` for layer ``l`` (and ``bias_probes[l]``
    ``[P, n_post]``); ``next_read()`` gives each pass its device read noise (or ``None``).
    Returns per-layer ``Local(pre[P], post[P], mod=r[P])`` — ``pre``/``post`` are the layer's
    batch-mean activity in each probe's trial."""
    n_probes = int(probes[0].shape[0])

    def run(sign, p):
        shifted = (
            params
            if sign == 0
            else MLPParams(
                [w + xi[p] * (sign * sigma) for w, xi in zip(params.weights, probes, strict=True)],
                [b + z[p] * (sign * sigma) for b, z in zip(params.biases, bias_probes, strict=True)],
            )
        )
        inputs, out = forward(k, shifted, x, activation, next_read())
        return float(_host(k, sample_losses(k, out, target, loss)).mean()), _batch_means(k, inputs, out)

    plus = [run(1.0, p) for p in range(n_probes)]
    probe_loss = np.array([value for value, _ in plus])
    if estimator == "antithetic":
        minus = np.array([run(-1.0, p)[0] for p in range(n_probes)])
        reference, baseline = minus, state.baseline
        logged = float(np.mean((probe_loss + minus) / 2))
    else:
        reference, baseline = _reference(estimator, state, probe_loss, lambda: run(0.0, 0)[0])
        logged = float(np.mean(probe_loss))
    r = reinforcement(probe_loss, reference, sigma, estimator)
    r_k = k.asarray(r)
    signals, bias_dirs = [], []
    for l, z in enumerate(bias_probes):
        pre = k.xp.stack([means[l][0] for _, means in plus])
        post = k.xp.stack([means[l][1] for _, means in plus])
        signals.append(Local(pre=pre, post=post, mod=r_k))
        bias_dirs.append((z * r_k[:, None]).mean(0))
    return Trials(signals, bias_dirs, logged, PerturbationState(state.step + 1, baseline))


def _tile(k, a, times: int):
    return a if times == 1 else k.xp.concatenate([a] * times)


def node_perturbation_signals(
    k,
    params: MLPParams,
    x,
    target,
    activation: str,
    loss: str,
    sigma: float,
    probes: int,
    estimator: str,
    noise: str,
    seed: int,
    state: PerturbationState,
    next_read: Callable[[], Callable | None],
) -> Trials:
    """Run the node-perturbation trials of one step: ``probes`` noisy copies of every sample.

    ``noise="injected"``: ``σ ξ`` (``ξ`` drawn on the host from ``(seed, step)``) is added to every
    drive on top of any read noise.  ``noise="device"``: the read noise of ``next_read()`` is the
    probe (a read pass with a known ``std(h)``, :class:`~bioplast.hardware.reads.ReadPass`).  Returns per-layer
    ``Local(pre=h, post=ξ, mod=r)`` with ``ξ`` standardised to unit variance."""
    x, target = _tile(k, x, probes), _tile(k, target, probes)
    sizes = [int(w.shape[0]) for w in params.weights]
    if noise == "device":
        return _device_trials(k, params, x, target, activation, loss, estimator, state, next_read)
    rng = np.random.default_rng([int(seed), int(state.step), 13])
    xi = [k.asarray(rng.standard_normal((int(x.shape[0]), n))) for n in sizes]

    def run(sign):
        hook = combine_noise(None if sign == 0 else (lambda i, h, n: xi[i] * (sign * sigma)), next_read())
        inputs, out = forward(k, params, x, activation, hook)
        return inputs, _host(k, sample_losses(k, out, target, loss))

    inputs, probe_loss = run(1.0)
    reference, baseline = _reference(
        estimator, state, probe_loss, lambda: run(-1.0 if estimator == "antithetic" else 0.0)[1]
    )
    r = k.asarray(reinforcement(probe_loss, reference, sigma, estimator))
    logged = float(np.mean((probe_loss + reference) / 2)) if estimator == "antithetic" else float(probe_loss.mean())
    signals = [Local(pre=h, post=e, mod=r) for h, e in zip(inputs, xi, strict=True)]
    return Trials(
        signals, [k.batch_mean(e * r[:, None]) for e in xi], logged, PerturbationState(state.step + 1, baseline)
    )


def _device_trials(k, params, x, target, activation, loss, estimator, state, next_read):
    """Node perturbation whose probe is the device's read noise (see the module docstring)."""
    recorded = {}
    hook_b = next_read()

    def recording(i, h, n):
        nu = hook_b(i, h, n)
        recorded[i] = (nu, hook_b.std(h))  # the noise and its known std s_b
        return nu

    inputs, out = forward(k, params, x, activation, recording)
    probe_loss = _host(k, sample_losses(k, out, target, loss))
    reference, baseline = _reference(
        estimator, state, probe_loss, lambda: _losses(k, params, x, target, activation, loss, next_read())
    )
    delta = k.asarray(probe_loss - reference)
    signals, bias_dirs = [], []
    for i, h in enumerate(inputs):
        nu, s = recorded[i]
        silent = s == 0  # no input, no read noise: this neuron had no probe on this sample
        s = s + silent  # (a bool array keeps the backend dtype; `silent * 1.0` would be float64)
        standardised = nu / s[:, None]
        r = -delta / s
        signals.append(Local(pre=h, post=standardised, mod=r))
        bias_dirs.append(k.batch_mean(standardised * r[:, None]))
    return Trials(signals, bias_dirs, float(probe_loss.mean()), PerturbationState(state.step + 1, baseline))
