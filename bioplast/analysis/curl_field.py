r"""How non-gradient is a learning rule?  The curl of its weight-update vector field.

A rule moves the weights by ``θ ← θ + η F(θ)`` on a fixed batch.  If ``F``
is minus the gradient of some loss, its Jacobian ``J = ∂F/∂θ`` is minus a
Hessian — symmetric.  The relative size of the antisymmetric part,

    ρ = ‖(J − Jᵀ)/2‖_F / ‖J‖_F  ∈ [0, 1],

is 0 for every gradient flow (descent or ascent) and grows with the
rotational ("curl") component (Ninou, Kadmon & Cayco-Gajic 2025).

:func:`field_curl` measures it for any field given as a function of a flat
parameter vector: ``J`` by central differences, over all coordinates or a
random subset ``S`` — a principal sub-block ``J_SS`` of a symmetric matrix is
symmetric, so ``ρ_S = 0`` still certifies a gradient flow on ``S`` and
``ρ_S > 0`` refutes one.  :func:`rule_curl` applies it to any registered
rule wired by the trainer (feed-forward rules, the EP family, the Dale
networks), on one batch of its task: "how non-gradient is my rule?".

Geometry matters: an exponentiated (multiplicative) update is a gradient flow
in the mirror coordinates ``log|w|``, not in ``w``, so in weight coordinates
it shows curl even when its direction is a gradient.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np

from bioplast.backends import get_backend
from bioplast.data import load_task, one_hot
from bioplast.dynamics import student_teacher as st
from bioplast.errors import ConfigError
from bioplast.models import build_model
from bioplast.validate import positive, positive_int


class Curl(NamedTuple):
    rho: float  # ‖(J−Jᵀ)/2‖_F / ‖J‖_F on the measured block
    coordinates: np.ndarray  # indices (into the flat parameter vector) of the block
    jacobian: np.ndarray  # the block J_SS


def field_curl(
    field: Callable[[np.ndarray], np.ndarray],
    theta,
    coords: int | None = None,
    eps: float = 1e-6,
    seed: int = 0,
    resolution: float = 0.0,
) -> Curl:
    """``ρ`` of ``field`` (flat float64 vector → same-length vector) at ``theta``, on all coordinates
    or on ``coords`` of them drawn from ``seed``; ``2·|S|`` field evaluations.  ``resolution``: the
    rounding error of one field value; a block no larger than 100× its finite-difference image
    ``resolution/eps`` is refused (the field does not depend on these weights: ρ would be noise)."""
    theta = np.asarray(theta, dtype=np.float64).ravel()
    positive("eps", eps)
    n = theta.size
    if coords is None or coords >= n:
        pick = np.arange(n)
    else:
        pick = np.sort(np.random.default_rng(seed).choice(n, positive_int("coords", coords), replace=False))
    block = np.empty((pick.size, pick.size))
    for col, i in enumerate(pick):
        step = np.zeros(n)
        step[i] = eps
        block[:, col] = ((field(theta + step) - field(theta - step)) / (2 * eps))[pick]
    norm = np.linalg.norm(block)
    if not np.abs(block).max() > 100 * resolution / eps:
        raise ConfigError(
            f"the update field's Jacobian on this block is {np.abs(block).max():.2g} at most, within "
            f"rounding ({resolution / eps:.2g}): the field does not depend on these weights here "
            "(pick other coordinates or another batch)"
        )
    return Curl(float(np.linalg.norm((block - block.T) / 2) / norm), pick, block)


def model_field(model, x, target) -> tuple:
    """``(F, θ₀, resolution)``: the update field of a model (:func:`bioplast.models.build_model`, numpy
    backend, its learning rate set as ``model.lr``) on the batch ``(x, target)``, over all its plastic
    matrices, with θ₀ the current weights.  ``F(θ) = (θ after one ``train_batch`` from θ − θ) / η``;
    every evaluation starts from the same saved state, so optimiser and rule states do not drift.
    ``resolution`` is the rounding error of ``F`` (float64 weights of size |θ| differenced and
    divided by η)."""
    saved = copy.deepcopy(model.state())
    lr = model.lr
    theta0 = np.concatenate([np.asarray(w, dtype=np.float64).ravel() for w in model.parameters()])

    def field(theta):
        model.load_state(copy.deepcopy(saved))
        at = 0
        for w in model.parameters():
            w[...] = theta[at : at + w.size].reshape(w.shape)
            at += w.size
        before = np.concatenate([np.asarray(w, dtype=np.float64).ravel() for w in model.parameters()])
        model.train_batch(x, target)
        after = np.concatenate([np.asarray(w, dtype=np.float64).ravel() for w in model.parameters()])
        return (after - before) / lr

    return field, theta0, 4 * np.finfo(np.float64).eps * max(1.0, np.abs(theta0).max()) / lr


def rule_curl(cfg, coords: int = 150, batch: int = 64, eps: float = 1e-6, seed: int = 0) -> Curl:
    """``ρ`` of the rule in a :class:`~bioplast.training.config.TrainConfig` at its initial weights, on the
    first ``batch`` training samples of its task (numpy backend, float64, plain SGD so that the
    field is the rule's direction; a configured ``eg`` optimiser is kept: its geometry is part of
    the question)."""
    if cfg.optimizer == "adam":
        raise ConfigError(
            "rule_curl measures the rule's field; Adam rescales it by running moments — use "
            "optimizer 'sgd' (or 'eg' to include the exponentiated geometry)"
        )
    cfg = replace(cfg, backend="numpy", dtype="float64").validate()
    k = get_backend("numpy", dtype="float64")
    data = load_task(cfg.task, cfg.seed, cfg.data_dir)
    # any Model: model_field reads the learning rate set on it as ``model.lr`` (outside the protocol)
    model: Any = build_model(cfg.kind, cfg, k, data)
    x = data.x_train[: positive_int("batch", batch)].astype(np.float64)
    target = one_hot(data.y_train[:batch], data.n_classes)
    model.lr = cfg.lr
    field, theta, resolution = model_field(model, x, target)
    return field_curl(field, theta, coords, eps, seed, resolution)


def curl_magnitude(
    w1,
    w2,
    x,
    y,
    activation: str = "identity",
    d1=None,
    d2=None,
    feedback=None,
    eps: float = 1e-6,
    readout: str = "identity",
) -> float:
    """``ρ = ‖(J − Jᵀ)/2‖_F / ‖J‖_F`` for the Jacobian ``J`` of the update field over all weights
    (central differences).  ``ρ = 0`` for any gradient flow (J is minus a Hessian)."""
    shapes = (w1.shape, w2.shape)
    theta = np.concatenate([w1.ravel(), w2.ravel()]).astype(np.float64)

    def field(t):
        a, b = t[: w1.size].reshape(shapes[0]), t[w1.size :].reshape(shapes[1])
        g1, g2 = st.update_field(a, b, x, y, activation, d1, d2, feedback, readout)
        return np.concatenate([g1.ravel(), g2.ravel()])

    return field_curl(field, theta, eps=eps).rho
