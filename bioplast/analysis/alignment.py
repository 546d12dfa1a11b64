"""Gradient alignment of generalized EP against the oracle, as a function of weight asymmetry.

The experiment of Laborieux & Zenke (2024), Fig. 3-4 in miniature: for each
initial asymmetry ``a`` (top-down ``B_l = (1 − a) W_lᵀ + a R_l``), train a
generalized-EP network for a few batches with and without Jacobian
homeostasis, then compare its EP estimate on held-out samples with the
float64 autograd oracle (recurrent backprop through the nudged phase).
"""
from __future__ import annotations

import numpy as np

from bioplast.backends import get_backend
from bioplast.data import load_task, one_hot
from bioplast.dynamics.equilibrium import ep_estimate, jacobian_asymmetry
from bioplast.rules.registry import get_rule
from bioplast.validate import positive_int
from bioplast.reference.ep_oracle import bptt_gradient
from bioplast.analysis.gradcheck import cosine, relative_error


def ep_alignment(k, net, x, y, *, activation: str, params: dict, seed: int = 0):
    """``(cosine, relative error, estimate)`` of an EP rule's estimate of the weights' ``−∇L`` on
    ``(x, y)`` (host arrays) against the float64 autograd oracle: recurrent backprop through the
    last ``nudge_steps`` relaxation steps from the free fixed point, which equals ``−∇L`` at the
    fixed point once the relaxation has converged (the equivalence of Scellier & Bengio 2019).
    ``params`` are the rule's (``beta``, ``free_steps``, ``nudge_steps``, ``estimator``, ``cost``,
    ``dt``, ``points``); ``seed`` draws the sign of β for ``random_sign``."""
    est = ep_estimate(k, net, k.asarray(x), k.asarray(y), beta=params["beta"], free_steps=params["free_steps"],
                      nudge_steps=params["nudge_steps"], activation=activation, estimator=params["estimator"],
                      cost=params["cost"], dt=params["dt"], points=params["points"],
                      rng=np.random.default_rng(seed))
    host = [[k.to_numpy(a) for a in g] if g is not None else None
            for g in (net.weights, net.biases, net.feedback, net.readout)]
    ref = bptt_gradient(host[0], host[1], x, y, free_steps=params["free_steps"], bptt_steps=params["nudge_steps"],
                        activation=activation, feedback=host[2], readout=host[3], dt=params["dt"])
    e = -np.concatenate([k.to_numpy(d).astype(np.float64).ravel() for d in est.weights])
    r = np.concatenate([g.ravel() for g in ref.weights])
    return cosine(e, r), relative_error(e, r), est


def gep_alignment(k, net, x, y, *, activation: str, params: dict, seed: int = 0) -> dict:
    """Cosine and relative error of the generalized-EP estimate of the bottom-up
    weights' gradient against the oracle, and the network's Jacobian asymmetry."""
    cos, rel, est = ep_alignment(k, net, x, y, activation=activation, params=params, seed=seed)
    return {"cosine": cos, "relative_error": rel, "jacobian_asymmetry": jacobian_asymmetry(k, net),
            "free_residual": est.reports[0].residual}


def alignment_curve(task: str = "mnist5k", hidden=(128, 64), asymmetries=(0.0, 0.25, 0.5, 0.75, 1.0),
                    homeostasis=(0.0, 1.0), train_batches: int = 20, batch_size: int = 32, samples: int = 20,
                    lr: float = 0.02, activation: str = "tanh", backend: str = "numba", seed: int = 0,
                    data_dir=None, progress: bool = False, **rule_params) -> list:
    """Rows ``{asymmetry, homeostasis, cosine, relative_error, jacobian_asymmetry, train_batches}``.

    Each (asymmetry, λ) pair trains a fresh ``gen_eqprop`` network (same seed)
    for ``train_batches`` SGD batches, then measures alignment on ``samples``
    test digits.  ``rule_params`` go to ``gen_eqprop`` (default here: ``dt=0.5``,
    100 free and 100 nudged steps, β = 0.01, so that the fixed points are
    reached and the remaining bias is the asymmetry's).
    """
    from bioplast.models.ep import EPModel

    positive_int("train_batches", train_batches, allow_zero=True)
    params = {"beta": 0.01, "dt": 0.5, "free_steps": 100, "nudge_steps": 100, **rule_params}
    data = load_task(task, seed, data_dir)
    k = get_backend(backend, dtype="float64")
    xt, yt = data.x_test[:samples], one_hot(data.y_test[:samples], data.n_classes)
    targets = one_hot(data.y_train, data.n_classes)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data.x_train))
    grid = [(a, lam) for a in asymmetries for lam in homeostasis]
    from tqdm.auto import tqdm

    rows = []
    for a, lam in tqdm(grid, desc="alignment", disable=not progress, leave=False):
        rule = get_rule("gen_eqprop", asymmetry=a, homeostasis=lam, **params)
        model = EPModel(k, rule, [data.n_features, *hidden, data.n_classes], seed, activation, "sgd", lr)
        for b in range(train_batches):
            idx = order[(b * batch_size) % len(order):][:batch_size]
            model.train_batch(k.asarray(data.x_train[idx]), k.asarray(targets[idx]))
        m = gep_alignment(k, model.net, xt, yt, activation=activation, params=rule.spec.params, seed=seed)
        rows.append({"asymmetry": a, "homeostasis": lam, "train_batches": train_batches, **m})
    return rows
