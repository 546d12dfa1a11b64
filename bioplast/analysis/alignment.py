"""Alignment with backprop: how far a rule's update direction is from ``−∇L``.

* :func:`gradient_alignment` — the measurement the training loop records (``grad_alignment``):
  the cosine between a model's rule directions and ``−∇L`` on a fixed batch of
  :data:`ALIGNMENT_SAMPLES` training samples, all plastic matrices concatenated.  ``−∇L`` comes
  from the model where it is exact (autograd) and from the independent oracle where it is not
  (EP: recurrent backprop through the relaxation, :mod:`bioplast.reference.ep_oracle`).
* :func:`alignment_with_backprop` — a zeroth-order rule's estimate against backprop over many
  sets of probes.
* :func:`alignment_curve` — generalized EP against the oracle as a function of weight asymmetry
  (Laborieux & Zenke 2024, Fig. 3-4 in miniature): for each initial asymmetry ``a`` (top-down
  ``B_l = (1 − a) W_lᵀ + a R_l``), train a generalized-EP network for a few batches with and
  without Jacobian homeostasis, then compare its estimate on held-out samples with the float64
  autograd oracle.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from bioplast.analysis.gradcheck import cosine, relative_error
from bioplast.backends import get_backend
from bioplast.data import load_task, one_hot
from bioplast.dynamics.equilibrium import ep_estimate, jacobian_asymmetry
from bioplast.dynamics.feedforward import MLPParams, backprop_errors
from bioplast.dynamics.perturbation import PerturbationState, node_perturbation_signals, weight_perturbation_signals
from bioplast.dynamics.relaxation import EPNet
from bioplast.errors import ConfigError
from bioplast.hardware.chip import Chip
from bioplast.models.ep import EPModel
from bioplast.optional import available
from bioplast.reference.ep_oracle import bptt_gradient
from bioplast.rules.perturbation import weight_probe
from bioplast.rules.registry import get_rule
from bioplast.validate import positive_int

ALIGNMENT_SAMPLES = 128  # training samples of the fixed batch on which alignment with backprop is measured


def _host(k, a) -> np.ndarray:
    return np.asarray(a if isinstance(a, np.ndarray) else k.to_numpy(a), dtype=np.float64)


def _flat(k, arrays) -> np.ndarray:
    return np.concatenate([_host(k, a).ravel() for a in arrays])


def oracle_gradient(model, x, target) -> list:
    """``−∇L`` of the weights of ``model``'s network from the independent oracle (EP networks:
    recurrent backprop through the nudged phase, float64, :func:`~bioplast.reference.ep_oracle.bptt_gradient`)."""
    net, p = model.network(), model.p
    if not isinstance(net, EPNet):
        raise ConfigError(f"no oracle gradient for a {type(net).__name__} network")
    k = model.k
    host = [
        [k.to_numpy(a) for a in g] if g is not None else None
        for g in (net.weights, net.biases, net.feedback, net.readout)
    ]
    ref = bptt_gradient(
        host[0],
        host[1],
        np.asarray(x),
        np.asarray(target),
        free_steps=p["free_steps"],
        bptt_steps=p["nudge_steps"],
        activation=model.activation,
        feedback=host[2],
        readout=host[3],
        dt=p["dt"],
    )
    return [-g for g in ref.weights]


def gradient_alignment(model, x, target):
    """Cosine between ``model``'s rule directions on ``(x, target)`` and ``−∇L`` (``None`` for rules
    that follow no loss's gradient)."""
    d = model.directions(x, target)
    if d is None:
        return None
    k = model.k
    truth = d.gradient if d.gradient is not None else oracle_gradient(model, x, target)
    return cosine(_flat(k, d.estimate), _flat(k, truth))


def grad_alignment(model, data):
    """The training loop's measurement: :func:`gradient_alignment` on the first
    :data:`ALIGNMENT_SAMPLES` training samples (the same fixed batch at every record)."""
    x = data.x_train[:ALIGNMENT_SAMPLES]
    return gradient_alignment(model, x, one_hot(data.y_train[:ALIGNMENT_SAMPLES], data.n_classes))


def standard_measures() -> dict:
    """The measurements every ``bioplast train`` and benchmark run records.  The true gradient comes
    from torch autograd, so without the ``[torch]`` extra ``grad_alignment`` is not measured (its
    column stays NaN; :data:`UNMEASURED` says why)."""
    return {"grad_alignment": grad_alignment} if available("torch") else {}


#: why a standard measurement is missing here, for the command line to say so once
UNMEASURED = "grad_alignment is not measured: its reference gradient needs torch (pip install 'bioplast[torch]')"


def ep_alignment(k, net, x, y, *, activation: str, params: dict, seed: int = 0):
    """``(cosine, relative error, estimate)`` of an EP rule's estimate of the weights' ``−∇L`` on
    ``(x, y)`` (host arrays) against the float64 autograd oracle: recurrent backprop through the
    last ``nudge_steps`` relaxation steps from the free fixed point, which equals ``−∇L`` at the
    fixed point once the relaxation has converged (the equivalence of Scellier & Bengio 2019).
    ``params`` are the rule's (``beta``, ``free_steps``, ``nudge_steps``, ``estimator``, ``cost``,
    ``dt``, ``points``); ``seed`` draws the sign of β for ``random_sign``."""
    est = ep_estimate(
        k,
        net,
        k.asarray(x),
        k.asarray(y),
        beta=params["beta"],
        free_steps=params["free_steps"],
        nudge_steps=params["nudge_steps"],
        activation=activation,
        estimator=params["estimator"],
        cost=params["cost"],
        dt=params["dt"],
        points=params["points"],
        rng=np.random.default_rng(seed),
    )
    host = [
        [k.to_numpy(a) for a in g] if g is not None else None
        for g in (net.weights, net.biases, net.feedback, net.readout)
    ]
    ref = bptt_gradient(
        host[0],
        host[1],
        x,
        y,
        free_steps=params["free_steps"],
        bptt_steps=params["nudge_steps"],
        activation=activation,
        feedback=host[2],
        readout=host[3],
        dt=params["dt"],
    )
    e = -np.concatenate([k.to_numpy(d).astype(np.float64).ravel() for d in est.weights])
    r = np.concatenate([g.ravel() for g in ref.weights])
    return cosine(e, r), relative_error(e, r), est


def gep_alignment(k, net, x, y, *, activation: str, params: dict, seed: int = 0) -> dict:
    """Cosine and relative error of the generalized-EP estimate of the bottom-up
    weights' gradient against the oracle, and the network's Jacobian asymmetry."""
    cos, rel, est = ep_alignment(k, net, x, y, activation=activation, params=params, seed=seed)
    return {
        "cosine": cos,
        "relative_error": rel,
        "jacobian_asymmetry": jacobian_asymmetry(k, net),
        "free_residual": est.reports[0].residual,
    }


def alignment_curve(
    task: str = "mnist5k",
    hidden=(128, 64),
    asymmetries=(0.0, 0.25, 0.5, 0.75, 1.0),
    homeostasis=(0.0, 1.0),
    train_batches: int = 20,
    batch_size: int = 32,
    samples: int = 20,
    lr: float = 0.02,
    activation: str = "tanh",
    backend: str = "numba",
    seed: int = 0,
    data_dir=None,
    progress: bool = False,
    **rule_params,
) -> list:
    """Rows ``{asymmetry, homeostasis, cosine, relative_error, jacobian_asymmetry, train_batches}``.

    Each (asymmetry, λ) pair trains a fresh ``gen_eqprop`` network (same seed)
    for ``train_batches`` SGD batches, then measures alignment on ``samples``
    test digits.  ``rule_params`` go to ``gen_eqprop`` (default here: ``dt=0.5``,
    100 free and 100 nudged steps, β = 0.01, so that the fixed points are
    reached and the remaining bias is the asymmetry's).
    """
    positive_int("train_batches", train_batches, allow_zero=True)
    params = {"beta": 0.01, "dt": 0.5, "free_steps": 100, "nudge_steps": 100, **rule_params}
    data = load_task(task, seed, data_dir)
    k = get_backend(backend, dtype="float64")
    xt, yt = data.x_test[:samples], one_hot(data.y_test[:samples], data.n_classes)
    targets = one_hot(data.y_train, data.n_classes)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(data.x_train))
    grid = [(a, lam) for a in asymmetries for lam in homeostasis]

    rows = []
    for a, lam in tqdm(grid, desc="alignment", disable=not progress, leave=False):
        rule = get_rule("gen_eqprop", asymmetry=a, homeostasis=lam, **params)
        model = EPModel(
            k, rule, [data.n_features, *hidden, data.n_classes], Chip(None, seed), activation=activation, lr=lr
        )
        for b in range(train_batches):
            idx = order[(b * batch_size) % len(order) :][:batch_size]
            model.train_batch(k.asarray(data.x_train[idx]), k.asarray(targets[idx]))
        m = gep_alignment(k, model.net, xt, yt, activation=activation, params=rule.spec.params, seed=seed)
        rows.append({"asymmetry": a, "homeostasis": lam, "train_batches": train_batches, **m})
    return rows


def alignment_with_backprop(
    k,
    params: MLPParams,
    x,
    target,
    rule,
    activation: str = "tanh",
    loss: str = "cross_entropy",
    steps: int = 10,
    device=None,
    seed: int = 0,
) -> np.ndarray:
    """Cosine between a zeroth-order rule's whole-network estimate and the backprop direction
    ``−∇L`` (weights of every layer, concatenated) on one batch, for ``steps`` independent sets of
    probes with the weights held fixed.

    ``rule`` is a ``weight_perturbation`` or ``node_perturbation`` rule (its ``sigma``, ``probes``,
    ``estimator`` and ``noise`` apply); ``device`` a :class:`~bioplast.hardware.DeviceProfile`
    whose read noise every pass gets (and that ``noise="device"`` uses as the probe).  The
    backprop direction is computed without read noise.  ``seed`` names the chip whose streams draw
    the node probes and read noise; weight probes come from the rule's own streams.
    """
    p = rule.spec.params
    if p.get("probe") not in ("weight", "node"):
        raise ConfigError(f"alignment_with_backprop needs a zeroth-order rule, got {rule.spec.name!r}")
    inputs, errors, _ = backprop_errors(k, params, x, target, activation, loss)
    truth = np.concatenate([_host(k, k.outer_mean(e, h)).ravel() for e, h in zip(errors, inputs, strict=True)])
    chip = Chip(device, seed)
    reads = chip.reads()

    def next_read():
        return None if reads is None else reads.next(k)

    cosines = []
    for step in range(steps):
        state = PerturbationState(step, 0.0)
        if p["probe"] == "weight":
            # each layer's own probe stream, as the rule initialises it, at this step
            probe_states = [rule.at_layer(i).init(k, w)._replace(step=step) for i, w in enumerate(params.weights)]
            probes = [
                weight_probe(k, s, tuple(w.shape), p["probes"])
                for s, w in zip(probe_states, params.weights, strict=True)
            ]
            zeros = [k.zeros((p["probes"], int(b.shape[0]))) for b in params.biases]
            trials = weight_perturbation_signals(
                k, params, x, target, activation, loss, probes, zeros, p["sigma"], p["estimator"], state, next_read
            )
            states = probe_states
        else:
            trials = node_perturbation_signals(
                k,
                params,
                x,
                target,
                activation,
                loss,
                p["sigma"],
                p["probes"],
                p["estimator"],
                p["noise"],
                chip.stream("probes"),
                state,
                next_read,
            )
            states = [()] * len(params.weights)
        est = np.concatenate(
            [
                _host(k, rule.at_layer(i).update(k, s, st, w)[0]).ravel()
                for i, (s, st, w) in enumerate(zip(trials.signals, states, params.weights, strict=True))
            ]
        )
        cosines.append(float(est @ truth / (np.linalg.norm(est) * np.linalg.norm(truth) + 1e-300)))
    return np.array(cosines)
