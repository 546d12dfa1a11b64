"""Dale's-law experiments: geometry comparison, sparse regression, pruning, DANN vs MLP.

Used by ``benchmarks/dale.py`` (full size, results committed) and
``examples/dale.py`` (small, run by the tests).  Each function returns plain
rows; plotting is separate (:func:`plot_weight_histograms`, :func:`plot_pruning`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bioplast.backends import get_backend
from bioplast.core import Local, plasticity
from bioplast.data import load_task
from bioplast.dynamics.feedforward import MLPParams, forward
from bioplast.figures import finish, pyplot
from bioplast.geometry import additive, eg_pm, geometry_test
from bioplast.models import build_model
from bioplast.rules import delta
from bioplast.training import TrainConfig, train

# the three geometries compared on the same MLP (learning rates tuned on MNIST-5k, 3 epochs)
GEOMETRIES: dict[str, dict[str, Any]] = {
    "GD": dict(optimizer="sgd", lr=0.05),
    "sign-frozen GD": dict(optimizer="sgd", lr=0.05, sign_frozen=True),
    "EG": dict(optimizer="eg", lr=2.0),
}


def _weights(arrays: dict) -> list:
    return [arrays[k] for k in sorted(arrays) if k.startswith("W")]


def _skewness(x: np.ndarray) -> float:
    z = (x - x.mean()) / x.std()
    return float((z**3).mean())


def compare_geometries(
    task: str = "mnist5k", epochs: int = 10, seeds=(0,), hidden=(256,), backend: str = "numba", progress: bool = False
) -> tuple:
    """Train the backprop MLP under each geometry; rows ``{geometry, seed, test_acc, sign_flips,
    log_weight_skew, geometry_test}`` and ``{(geometry, seed): (W0 at init, trained arrays)}``."""
    rows, weights = [], {}
    for name, opts in GEOMETRIES.items():
        for seed in seeds:
            cfg = TrainConfig(
                rule="backprop", task=task, backend=backend, epochs=epochs, seed=seed, hidden=hidden, **opts
            )
            k, data = get_backend(backend), load_task(task, seed)
            before = _weights(build_model(cfg.validate().kind, cfg, k, data).arrays())
            with tempfile.TemporaryDirectory() as tmp:
                records = train(cfg, out=tmp, progress=progress)
                with np.load(Path(tmp) / "weights.npz", allow_pickle=False) as f:
                    arrays = {n: f[n] for n in f.files}
            after = _weights(arrays)
            flips = sum(int((a * b < 0).sum()) for a, b in zip(after, before, strict=True))  # opposite sign, not zeroed
            zeroed = sum(int(((a == 0) & (b != 0)).sum()) for a, b in zip(after, before, strict=True))
            total = sum(a.size for a in after)
            verdict = geometry_test(
                {f"W{i}": b for i, b in enumerate(before)},
                {f"W{i}": a for i, a in enumerate(after)},
                potentials=["2-norm", "negative entropy"],
            )
            nz = after[0][after[0] != 0]
            rows.append(
                {
                    "geometry": name,
                    "seed": seed,
                    "test_acc": records[-1]["test_acc"],
                    "sign_flips": flips / total,
                    "zeroed": zeroed / total,
                    "log_weight_skew": _skewness(np.log(np.abs(nz))),
                    "geometry_test": verdict[0]["potential"],
                    "ks": {r["potential"]: r["ks_distance"] for r in verdict},
                }
            )
            weights[(name, seed)] = (before[0], arrays)
    return rows, weights


def sparse_regression(
    d: int = 500, n: int = 100, relevant=(5, 50, 500), steps: int = 2000, seeds=(0, 1, 2), noise: float = 0.01
) -> list:
    """Linear regression from ``n < d`` samples with ``k`` relevant inputs: GD (from zero) against EG±
    (from the uniform ``u = v = c``), each at its best learning rate of a small grid.  Rows
    ``{relevant, method, test_mse}`` (mean over seeds).  EG's entropic bias favours sparse
    solutions (Kivinen & Warmuth 1997), so it should win when few inputs matter."""

    k = get_backend("numpy", dtype="float64")
    rows = []
    for rel in relevant:
        for method, geos in (
            ("GD", [additive(e) for e in (0.01, 0.03, 0.1)]),
            ("EG±", [eg_pm(e, offset=1e-3) for e in (0.3, 1.0, 3.0)]),
        ):
            best = np.inf
            for geo in geos:
                errs = []
                for seed in seeds:
                    rng = np.random.default_rng(seed)
                    w_star = np.zeros(d)
                    idx = rng.choice(d, rel, replace=False)
                    w_star[idx] = rng.standard_normal(rel) / np.sqrt(rel)
                    x, xt = rng.standard_normal((n, d)), rng.standard_normal((2000, d))
                    y = x @ w_star + noise * rng.standard_normal(n)
                    learn = plasticity(delta(), geo)
                    w = np.zeros((1, d))
                    state = learn.init(k, w)
                    for _ in range(steps):
                        out = x @ w[0]
                        w, state = learn.apply(k, Local(pre=x, post=out[:, None], mod=(y - out)[:, None]), state, w)
                    errs.append(float(np.mean((xt @ w[0] - xt @ w_star) ** 2)) if np.isfinite(w).all() else np.inf)
                best = min(best, float(np.mean(errs)))
            rows.append({"relevant": rel, "method": method, "test_mse": best})
    return rows


def pruning_curve(
    weights_by_geometry: dict, task: str = "mnist5k", seed: int = 0, fractions=(0.0, 0.5, 0.7, 0.8, 0.9, 0.95)
) -> list:
    """Test accuracy after zeroing the smallest-magnitude fraction of the first layer's weights.

    ``weights_by_geometry[name]`` holds a one-hidden-layer network's trained
    arrays (``W0, b0, W1, b1``, as in ``weights.npz``); only ``W0`` is pruned
    (the layer that holds 97 % of the synapses)."""

    data = load_task(task, seed)
    k = get_backend("numpy", dtype="float32")
    rows = []
    for name, rest in weights_by_geometry.items():
        w0 = rest["W0"]
        for frac in fractions:
            cut = np.quantile(np.abs(w0), frac) if frac > 0 else -1.0
            pruned = np.where(np.abs(w0) <= cut, 0.0, w0)
            params = MLPParams(
                [k.asarray(pruned), k.asarray(rest["W1"])], [k.asarray(rest["b0"]), k.asarray(rest["b1"])]
            )
            _, out = forward(k, params, k.asarray(data.x_test), "relu")
            rows.append(
                {"geometry": name, "pruned": frac, "test_acc": float((np.asarray(out).argmax(1) == data.y_test).mean())}
            )
    return rows


def dale_networks(
    task: str = "mnist5k", epochs: int = 10, seeds=(0,), hidden=(256,), backend: str = "numba", progress: bool = False
) -> list:
    """Backprop on a standard MLP, a DANN and a column-sign E/I MLP (10 % inhibitory): rows
    ``{network, seed, test_acc}``."""
    rows = []
    networks: tuple[tuple[str, dict[str, Any]], ...] = (
        ("mlp", dict(lr=0.05)),
        ("dann", dict(lr=0.05)),
        ("ei_mlp", dict(lr=0.05)),
    )
    for network, opts in networks:
        for seed in seeds:
            rec = train(
                TrainConfig(
                    rule="backprop",
                    task=task,
                    backend=backend,
                    epochs=epochs,
                    seed=seed,
                    hidden=hidden,
                    network=network,
                    **opts,
                ),
                progress=progress,
            )
            rows.append(
                {
                    "network": network,
                    "seed": seed,
                    "test_acc": rec[-1]["test_acc"],
                    "curve": [r["test_acc"] for r in rec],
                }
            )
    return rows


def plot_weight_histograms(weights: dict, path, title: str = "") -> None:
    """Histograms of log10|W| of the first layer: at init and after training with each geometry."""

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    shown_init = False
    for (name, seed), (before, arrays) in weights.items():
        if seed != min(s for _, s in weights):
            continue
        after = arrays["W0"]
        if not shown_init:
            ax.hist(
                np.log10(np.abs(before[before != 0])),
                bins=80,
                histtype="step",
                color="gray",
                label="init",
                density=True,
            )
            shown_init = True
        a = after[after != 0]
        ax.hist(np.log10(np.abs(a)), bins=80, histtype="step", density=True, label=name)
    finish(fig, ax, path, xlabel="log10 |w| (first layer)", ylabel="density", title=title, grid=None)


def plot_pruning(rows: list, path, title: str = "") -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name in dict.fromkeys(r["geometry"] for r in rows):
        sel = [r for r in rows if r["geometry"] == name]
        ax.plot([r["pruned"] for r in sel], [r["test_acc"] for r in sel], marker="o", label=name)
    finish(
        fig,
        ax,
        path,
        xlabel="fraction of first-layer weights pruned (smallest |w|)",
        ylabel="test accuracy",
        title=title,
        ylim=(0, 1),
    )
