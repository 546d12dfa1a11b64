"""``bioplast gradcheck``: EP estimates against the independent autograd oracle, per parameter."""

from __future__ import annotations

import numpy as np

from bioplast.backends import get_backend
from bioplast.core import Rule
from bioplast.data import load_task, one_hot
from bioplast.dynamics.equilibrium import ep_estimate, jacobian_asymmetry
from bioplast.errors import ConfigError
from bioplast.models.ep import init_epnet, phase_params
from bioplast.reference.ep_oracle import bptt_gradient
from bioplast.rules.registry import get_rule
from bioplast.validate import positive_int

EP_RULES = ("eqprop", "holo_eqprop", "gen_eqprop")


def cosine(a, b) -> float:
    """``a·b / (‖a‖ ‖b‖)``; NaN when either is zero (no direction to compare)."""
    norms = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a.ravel() @ b.ravel() / norms) if norms > 0 else float("nan")


def relative_error(est, ref) -> float:
    """``‖est − ref‖ / ‖ref‖``; NaN when the reference is zero."""
    norm = float(np.linalg.norm(ref))
    return float(np.linalg.norm(est - ref) / norm) if norm > 0 else float("nan")


def _rows(names, ests, refs) -> list:
    rows = [
        {"param": n, "cosine": cosine(e, r), "relative_error": relative_error(e, r)}
        for n, e, r in zip(names, ests, refs, strict=True)
    ]
    e_all = np.concatenate([e.ravel() for e in ests])
    r_all = np.concatenate([r.ravel() for r in refs])
    rows.append({"param": "all", "cosine": cosine(e_all, r_all), "relative_error": relative_error(e_all, r_all)})
    return rows


def ep_gradcheck(
    rule="eqprop",
    task: str = "mnist5k",
    hidden=(512,),
    samples: int = 20,
    activation: str = "tanh",
    backend: str = "numpy",
    dtype: str = "float32",
    seed: int = 0,
    data_dir=None,
    **rule_params,
) -> list:
    """Rows ``{param, cosine, relative_error}`` per parameter and for all together.

    ``rule`` is any two-phase (``contrast``) rule — the EP family, a plugin's, a
    ``package.module:factory`` reference or a :class:`~bioplast.core.Rule`; the weights'
    directions are the rule's own update of the relaxed phases.  ``rule_params`` go to the rule
    (``beta``, ``estimator``, ``free_steps``, ``nudge_steps``, ``cost``, ``dt``, ``points``,
    ``asymmetry``).  The oracle is float64 backprop through the last ``nudge_steps`` steps of the
    relaxation from the free fixed point (Ernoult et al. 2019).  The last rows report the free
    phase's residual and, for a generalized rule (one with an ``asymmetry``), the Jacobian
    asymmetry ``‖J − Jᵀ‖/‖J + Jᵀ‖``.
    """

    rule_obj = rule if isinstance(rule, Rule) else get_rule(rule, **rule_params)
    if not rule_obj.spec.contrast:
        raise ConfigError(
            f"gradcheck compares two-phase rules with backprop through the relaxation; rule "
            f"{rule_obj.spec.name!r} is not one (its RuleSpec has contrast=False; built-in two-phase "
            f"rules: {', '.join(EP_RULES)})"
        )
    positive_int("samples", samples)
    p = phase_params(rule_obj)
    data = load_task(task, seed, data_dir)
    if samples > len(data.x_train):
        raise ConfigError(f"samples = {samples}, but task {task!r} has {len(data.x_train)} training samples")
    x = data.x_train[:samples]
    y = one_hot(data.y_train[:samples], data.n_classes)
    k = get_backend(backend, dtype=dtype)
    net = init_epnet(k, [data.n_features, *hidden, data.n_classes], seed, p["cost"], p.get("asymmetry"))
    est = ep_estimate(
        k,
        net,
        k.asarray(x),
        k.asarray(y),
        beta=p["beta"],
        free_steps=p["free_steps"],
        nudge_steps=p["nudge_steps"],
        activation=activation,
        estimator=p["estimator"],
        cost=p["cost"],
        dt=p["dt"],
        points=p["points"],
        rng=np.random.default_rng(seed),
        rule=rule_obj,
    )
    host = [
        [k.to_numpy(a) for a in group] if group is not None else None
        for group in (net.weights, net.biases, net.feedback, net.readout)
    ]
    ref = bptt_gradient(
        host[0],
        host[1],
        x,
        y,
        free_steps=p["free_steps"],
        bptt_steps=p["nudge_steps"],
        activation=activation,
        feedback=host[2],
        readout=host[3],
        dt=p["dt"],
    )
    n = len(net.weights)
    names = (
        [f"W{i + 1}" for i in range(n)]
        + [f"b{i + 1}" for i in range(n)]
        + [f"B{i + 2}" for i in range(len(ref.feedback))]
        + (["W_out", "b_out"] if ref.readout else [])
    )
    ests = [-k.to_numpy(d).astype(np.float64) for d in est.weights + est.biases + est.feedback + est.readout]
    rows = _rows(names, ests, ref.weights + ref.biases + ref.feedback + ref.readout)
    rows.append({"param": "free-phase residual", "cosine": float("nan"), "relative_error": est.reports[0].residual})
    if p.get("asymmetry") is not None:
        rows.append(
            {"param": "jacobian asymmetry", "cosine": float("nan"), "relative_error": jacobian_asymmetry(k, net)}
        )
    return rows
