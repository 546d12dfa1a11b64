"""``bioplast gradcheck``: EP estimates against the independent autograd oracle, per layer."""
from __future__ import annotations

import numpy as np

from ..backends import get_backend
from ..data import load_task, one_hot
from ..dynamics.feedforward import init_mlp
from ..rules.eqprop import ep_estimate
from ..validate import positive_int
from .ep_oracle import bptt_gradient


def cosine(a, b) -> float:
    return float(a.ravel() @ b.ravel() / (np.linalg.norm(a) * np.linalg.norm(b)))


def relative_error(est, ref) -> float:
    return float(np.linalg.norm(est - ref) / np.linalg.norm(ref))


def ep_gradcheck(task: str = "mnist5k", hidden=(512,), samples: int = 20, beta: float = 0.01,
                 estimator: str = "symmetric", free_steps: int = 30, nudge_steps: int = 10,
                 activation: str = "tanh", backend: str = "numpy", dtype: str = "float32", seed: int = 0,
                 data_dir=None) -> list:
    """Rows ``{param, cosine, relative_error}`` per weight/bias and for all parameters together.

    The oracle is backprop through the last ``nudge_steps`` steps of the
    relaxation from the free fixed point (float64 torch autograd).
    """
    positive_int("samples", samples)
    data = load_task(task, seed, data_dir)
    x = data.x_train[:samples]
    y = one_hot(data.y_train[:samples], data.n_classes)
    k = get_backend(backend, dtype=dtype)
    params = init_mlp(k, [data.n_features, *hidden, data.n_classes], seed, scheme="torch")
    est = ep_estimate(k, params.weights, params.biases, k.asarray(x), k.asarray(y), beta=beta,
                      free_steps=free_steps, nudge_steps=nudge_steps, activation=activation, estimator=estimator)
    gw, gb, _ = bptt_gradient([k.to_numpy(w) for w in params.weights], [k.to_numpy(b) for b in params.biases],
                              x, y, free_steps=free_steps, bptt_steps=nudge_steps, activation=activation)
    rows = []
    ests = [-k.to_numpy(d).astype(np.float64) for d in est.weights + est.biases]
    refs = gw + gb
    names = [f"W{i + 1}" for i in range(len(gw))] + [f"b{i + 1}" for i in range(len(gb))]
    for name, e, r in zip(names, ests, refs):
        rows.append({"param": name, "cosine": cosine(e, r), "relative_error": relative_error(e, r)})
    e_all = np.concatenate([e.ravel() for e in ests])
    r_all = np.concatenate([r.ravel() for r in refs])
    rows.append({"param": "all", "cosine": cosine(e_all, r_all), "relative_error": relative_error(e_all, r_all)})
    rows.append({"param": "free-phase residual", "cosine": float("nan"), "relative_error": est.reports[0].residual})
    return rows
