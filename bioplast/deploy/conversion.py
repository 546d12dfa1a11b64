r"""Trained ReLU MLPs as spiking networks (rate-based ANN→SNN conversion) and their NIR graphs.

NIR has no ReLU, so a rate network goes to a chip as the spiking network
that approximates it: each ReLU unit becomes an integrate-and-fire neuron
whose firing rate is its activation (Cao et al. 2015, IJCV 113:54; Diehl et
al. 2015, IJCNN), with the data-based normalisation of Rueckauer et al.
2017 ("Conversion of continuous-valued deep networks to efficient
event-driven networks for image classification", Front. Neurosci. 11:682):

    λ_0 = 1,   λ_l = the p-th percentile of layer l's positive ReLU activations on calibration data,
    W'_l = W_l λ_{l−1} / λ_l,   b'_l = b_l / λ_l   (hidden layers),
    W'_L = W_L λ_{L−1},         b'_L = b_L          (readout: argmax needs no scale)

so that rates ``a_l/λ_l`` stay below one spike per step.  Time is discrete
(``dt`` per step).  The analog input ``x`` (pixels in ``[0, 1]``) is a
constant current: layer 1 integrates ``v ← v + W'_1 x + b'_1`` every step;
a hidden neuron fires when ``v > 1`` and is reset by subtracting 1
(``reset="subtract"``, Rueckauer's choice: no charge is lost, so after ``T``
steps layer 1's count is ``⌈T d⌉ − 1`` for a drive ``d`` in ``(0, 1]``) or to 0 (``"zero"``,
NIR's IF); later layers add ``W'_l s + b'_l`` per step for the spikes ``s``
of the layer below.  The readout integrates without firing, and the class
is the argmax of its potential.

NIR graph (:func:`export_converted`): ``Input → Affine → IF → Affine → IF →
… → Affine → I → Output`` in continuous time, with spikes as Dirac pulses of
unit area: every IF and the readout integrator have ``r = 1/dt``; the first
Affine keeps ``(W'_1, b'_1)`` (its input is the current ``x``, so
``v̇ = (W'_1 x + b'_1)/dt`` adds ``W'_1 x + b'_1`` per step); later Affines
carry ``(W'_l dt, b'_l)`` (a Dirac spike through ``W'_l dt`` adds ``W'_l``).
Every IF has ``v_threshold = 1``; NIR's IF resets to ``v_reset = 0``, so a
graph says ``reset="zero"`` — the subtractive reset has no NIR form and is
refused at export.  ``dt`` and the scales go into the graph's metadata.
(snnTorch's NIR importer maps ``nir.IF`` to a leaky neuron with β = 0.9, not
an integrator, so it cannot run these graphs faithfully; tools with a true IF
can.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from bioplast.deploy.nir import read_graph
from bioplast.errors import ConfigError, DataError
from bioplast.optional import require
from bioplast.validate import positive, positive_int

RESETS = ("subtract", "zero")


class ConvertedSNN(NamedTuple):
    """Weights ``W'_l`` and per-step biases ``b'_l`` of the converted network, the scales ``λ_l``
    (λ_0 = 1 first), the time step and the reset of its IF neurons."""

    weights: tuple
    biases: tuple
    scales: tuple
    dt: float
    reset: str


def _check_mlp(weights, biases):
    weights = [np.asarray(w, dtype=np.float64) for w in weights]
    biases = [np.asarray(b, dtype=np.float64) for b in biases]
    if not weights or len(weights) != len(biases):
        raise ConfigError(
            f"an MLP needs as many bias vectors as weight matrices (at least one), got {len(weights)} and {len(biases)}"
        )
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        if w.ndim != 2 or b.shape != (w.shape[0],):
            raise DataError(f"layer {i}: weights must be [n_out, n_in] and biases [n_out], got {w.shape} and {b.shape}")
        if i and w.shape[1] != weights[i - 1].shape[0]:
            raise DataError(
                f"layer {i} takes {w.shape[1]} inputs but layer {i - 1} has {weights[i - 1].shape[0]} units"
            )
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise DataError(f"layer {i}: weights and biases must be finite")
    return weights, biases


def convert_mlp(
    weights,
    biases,
    x_calib,
    *,
    percentile: float = 99.9,
    dt: float = 1e-3,
    reset: str = "subtract",
    activation: str = "relu",
) -> ConvertedSNN:
    """The IF network that approximates the ReLU MLP ``(weights[l] [n_out, n_in], biases[l])`` — hidden
    layers ReLU, the last linear (a readout) — normalised on ``x_calib[n, n_in]`` (module docstring)."""
    if activation != "relu":
        raise ConfigError(
            f"rate-based conversion needs ReLU hidden units (a firing rate is never negative); "
            f"got activation {activation!r}"
        )
    if not 0 < percentile <= 100:
        raise ConfigError(f"percentile must be in (0, 100], got {percentile!r}")
    if reset not in RESETS:
        raise ConfigError(f"reset must be one of {RESETS}, got {reset!r}")
    positive("dt", dt)
    weights, biases = _check_mlp(weights, biases)
    x = np.asarray(x_calib, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != weights[0].shape[1] or len(x) == 0:
        raise DataError(f"x_calib must be [n >= 1, {weights[0].shape[1]}], got {x.shape}")
    scales, a = [1.0], x
    new_w, new_b = [], []
    for w, b in zip(weights[:-1], biases[:-1], strict=True):
        a = np.maximum(a @ w.T + b, 0.0)
        positive_part = a[a > 0]
        lam = float(np.percentile(positive_part, percentile)) if positive_part.size else 1.0
        new_w.append(w * scales[-1] / lam)
        new_b.append(b / lam)
        scales.append(lam)
    new_w.append(weights[-1] * scales[-1])
    new_b.append(biases[-1].copy())
    return ConvertedSNN(tuple(new_w), tuple(new_b), tuple(scales), float(dt), reset)


def simulate_converted(conv: ConvertedSNN, x, steps: int):
    """Run the converted network on analog inputs ``x[B, n_in]`` for ``steps`` steps:
    ``(readout potentials [B, n_out], spike counts of each hidden layer [B, n_l])``."""
    steps = positive_int("steps", steps)
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != conv.weights[0].shape[1]:
        raise DataError(f"x must be [B, {conv.weights[0].shape[1]}], got {x.shape}")
    drive = x @ conv.weights[0].T + conv.biases[0]  # constant: the input current of layer 1
    hidden = len(conv.weights) - 1
    v = [np.zeros((len(x), w.shape[0])) for w in conv.weights]
    counts = [np.zeros((len(x), w.shape[0]), dtype=np.int64) for w in conv.weights[:-1]]
    for _ in range(steps):
        incoming = drive
        for l in range(hidden):
            v[l] += incoming
            fired = v[l] > 1.0
            counts[l] += fired
            v[l] = np.where(fired, v[l] - 1.0 if conv.reset == "subtract" else 0.0, v[l])
            incoming = fired @ conv.weights[l + 1].T + conv.biases[l + 1]
        v[hidden] += incoming
    return v[hidden], counts


def predict_converted(conv: ConvertedSNN, x, steps: int) -> np.ndarray:
    """Classes of ``x`` by the converted network: argmax of the readout potential after ``steps``."""
    return simulate_converted(conv, x, steps)[0].argmax(axis=1)


def export_converted(conv: ConvertedSNN, path=None):
    """The converted network as a ``nir.NIRGraph`` (module docstring); with ``path``, also written
    atomically (a temporary file, then renamed: never a partial file)."""
    nir = require("nir", "NIR conversion")

    if conv.reset != "zero":
        raise ConfigError(
            "NIR's IF neuron resets to v_reset; a converted network with reset='subtract' has no "
            "NIR form: convert with reset='zero' to export"
        )
    dt = conv.dt
    nodes = {"input": nir.Input(input_type={"input": np.array([conv.weights[0].shape[1]])})}
    edges, prev = [], "input"
    last = len(conv.weights) - 1
    for l, (w, b) in enumerate(zip(conv.weights, conv.biases, strict=True)):
        n = w.shape[0]
        nodes[f"affine{l}"] = nir.Affine(weight=w if l == 0 else w * dt, bias=b.copy())
        cell = (
            nir.I(r=np.full(n, 1.0 / dt))
            if l == last
            else nir.IF(r=np.full(n, 1.0 / dt), v_threshold=np.ones(n), v_reset=np.zeros(n))
        )
        nodes[f"layer{l}"] = cell
        edges += [(prev, f"affine{l}"), (f"affine{l}", f"layer{l}")]
        prev = f"layer{l}"
    nodes["output"] = nir.Output(output_type={"output": np.array([conv.weights[-1].shape[0]])})
    edges.append((prev, "output"))
    graph = nir.NIRGraph(
        nodes=nodes,
        edges=edges,
        metadata={"bioplast_dt": dt, "bioplast_conversion": "rate-IF", "bioplast_scales": np.asarray(conv.scales)},
    )
    if path is not None:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        nir.write(tmp, graph)
        os.replace(tmp, path)
    return graph


def import_converted(graph_or_path) -> ConvertedSNN:
    """A :class:`ConvertedSNN` from a graph written by :func:`export_converted` (or one of the same
    shape: a chain of Affine → IF layers and an Affine → I readout, ``dt`` in the metadata)."""
    nir = require("nir", "NIR conversion")

    graph = read_graph(graph_or_path) if isinstance(graph_or_path, (str, Path)) else graph_or_path
    dt = graph.metadata.get("bioplast_dt")
    if dt is None:
        raise DataError("this NIR graph holds no bioplast_dt: it was not written by export_converted")
    dt = float(np.asarray(dt))
    following = dict(graph.edges)
    node = following.get("input")
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    while node is not None and node != "output":
        affine = graph.nodes[node]
        cell_name = following.get(node)
        cell = graph.nodes.get(cell_name)
        if not isinstance(affine, nir.Affine) or not isinstance(cell, (nir.IF, nir.I)):
            raise DataError(
                f"NIR node {node!r} ({type(affine).__name__}) → {cell_name!r} "
                f"({type(cell).__name__}): a converted network is a chain of Affine → IF layers "
                "ending in Affine → I"
            )
        if not np.allclose(np.asarray(cell.r), 1.0 / dt):
            raise DataError(f"NIR node {cell_name!r} has r != 1/dt; not a converted network of this dt")
        if isinstance(cell, nir.IF) and not (np.allclose(cell.v_threshold, 1.0) and np.allclose(cell.v_reset, 0.0)):
            raise DataError(f"NIR node {cell_name!r}: converted IF neurons have v_threshold 1 and v_reset 0")
        w = np.asarray(affine.weight, dtype=np.float64)
        weights.append(w if not weights else w / dt)
        biases.append(np.asarray(affine.bias, dtype=np.float64))
        if isinstance(cell, nir.I):
            node = following.get(cell_name)
            break
        node = following.get(cell_name)
    if node != "output" or not weights:
        raise DataError("this NIR graph is not a converted network: no Affine → I readout reaching the output")
    scales = tuple(float(s) for s in np.asarray(graph.metadata.get("bioplast_scales", [1.0] * len(weights))))
    return ConvertedSNN(tuple(weights), tuple(biases), scales, dt, "zero")
