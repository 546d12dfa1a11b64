"""One training loop for every model kind: records, checkpoints, resume, divergence, progress.

``train(cfg, out)`` builds the model the configuration names (:mod:`bioplast.training.config`,
:mod:`bioplast.models`), feeds it its data in the model's plan (minibatches, shuffled by the run's
seed, or one online pass in order) and after every epoch appends a record

    {epoch, loss, train_acc, test_acc, wall_time_s, synops, energy_J, grad_alignment}

(epoch 0 is the untrained network), followed by the columns of :data:`bioplast.metrics.COLUMNS`:
NeuroBench's figures of an evaluation pass on the first :data:`~bioplast.metrics.EVAL_SAMPLES` test
samples (synaptic operations per sample, activation sparsity, footprint in bytes and in bits at the
substrate's weight format) and the cost of learning so far (plasticity operations, trace updates,
weight writes and bits written, the estimated learning energy; :mod:`bioplast.metrics`).
``synops`` counts synaptic operations spent on training, cumulatively (the model's own counts: see
each model); ``energy_J`` prices them, the neuron updates, spikes and weight writes with the
configuration's per-operation energies (:mod:`bioplast.hardware.energy`; NaN where the profile has
none).  Measurements such as the
alignment with backprop are injected (``measures``: name → ``fn(model, data)``), so the loop and
the models import no analysis; a record column nobody measures is NaN.

With ``out`` the run folder gets ``config.json``, ``metrics.csv``, ``metrics.json``,
``neurobench.json`` (the latest epoch's metrics in NeuroBench's format,
:func:`bioplast.metrics.neurobench_results`), ``weights.npz`` and a checkpoint, each written
atomically after every epoch; with ``resume``
(default) and a checkpoint there, training continues after its last epoch — bit for bit the run
that was not interrupted on numpy and numba.  The checkpoint must come from the same
configuration (``epochs`` may grow) and bioplast version, else
:class:`~bioplast.errors.DataError`.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from bioplast import __version__
from bioplast.data import load_task, one_hot
from bioplast.errors import BioplastWarning, DivergenceError
from bioplast.hardware.energy import OPS, total_energy
from bioplast.io import atomic_save_npz, atomic_write_csv, atomic_write_json, ensure_dir
from bioplast.metrics import COLUMNS as METRIC_COLUMNS
from bioplast.metrics import EVAL_SAMPLES, measure_run, record_columns
from bioplast.models import LEARNING_OPS, build_model
from bioplast.training import checkpoints

RECORD_COLUMNS = [
    "epoch",
    "loss",
    "train_acc",
    "test_acc",
    "wall_time_s",
    "synops",
    "energy_J",
    "grad_alignment",
    *METRIC_COLUMNS,
]
COUNTED = OPS + LEARNING_OPS  # the operation counts the loop sums over a run's steps
Measure = Callable[..., float | None]


def train(cfg, out=None, progress=True, resume: bool = True, measures: dict | None = None) -> list:
    """Train ``cfg`` (a :class:`~bioplast.training.config.TrainConfig` or
    :class:`~bioplast.training.config.SpikingConfig`) and return the per-epoch records (module
    docstring).  ``progress``: ``False`` (no bar), ``True`` (the next free line) or an ``int``, the
    terminal line to draw on."""
    cfg.validate()
    out = ensure_dir(out) if out is not None else None
    k = cfg.backend_instance()
    data = load_task(cfg.task, cfg.seed, cfg.data_dir)
    cfg.check_resources(data)
    model = build_model(cfg.kind, cfg, k, data)
    plan = model.plan
    config = cfg.as_dict()
    identity = {"bioplast_version": __version__, "config": {n: v for n, v in config.items() if n != "epochs"}}
    if out is not None:
        atomic_write_json(out / "config.json", {"bioplast_version": __version__, **config, **cfg.describe(model)})
    n = len(data.x_train) if plan.samples is None else min(plan.samples, len(data.x_train))
    x_train, targets = data.x_train[:n], one_hot(data.y_train[:n], data.n_classes)
    batch = n if plan.batch_size is None else plan.batch_size
    n_batches = (n + batch - 1) // batch
    rng = np.random.default_rng(cfg.seed)
    records, wall, ops, first = [], 0.0, dict.fromkeys(COUNTED, 0), 1
    resumed = _resume(out, resume, model, rng, k, identity)
    if resumed is not None:
        rng, meta = resumed
        records, wall, ops = meta["records"], meta["wall_time_s"], {**dict.fromkeys(COUNTED, 0), **meta["ops"]}
        first = meta["epoch"] + 1
    measures = dict(measures or {})

    def record(epoch, loss):
        train_acc, test_acc = model.accuracies(data)
        row = {
            "epoch": epoch,
            "loss": loss,
            "train_acc": train_acc,
            "test_acc": test_acc,
            "wall_time_s": wall,
            "synops": ops["synops"],
            "energy_J": total_energy(ops, cfg.energy),
        }
        about = {"model": cfg.kind, "run": cfg.label(), "substrate": cfg.substrate, "costs": cfg.energy}
        bench = measure_run(model, data.x_test[:EVAL_SAMPLES], test_acc, ops, epoch * n, about, cfg.seed)
        row.update({c: math.nan for c in RECORD_COLUMNS if c not in row})  # columns nobody measures
        row.update(record_columns(bench))
        for name, fn in measures.items():
            value = fn(model, data)
            row[name] = math.nan if value is None else float(value)
        records.append(row)
        if out is not None:
            atomic_write_json(out / "neurobench.json", bench)
            write_epoch(
                out,
                records,
                model.arrays(),
                (model.state(), rng),
                {**identity, "epoch": epoch, "records": records, "wall_time_s": wall, "ops": ops},
            )

    if resumed is None:  # a resumed run has its epoch-0 record; evaluating again would shift its noise
        record(0, math.nan)
    if plan.batch_size is None and hasattr(model, "progress"):
        model.progress = progress is True  # the epoch is one step: the model draws its own bar
    bar = progress_bar(
        (cfg.epochs - first + 1) * n_batches,
        cfg.label(),
        progress,
        unit="batch" if plan.batch_size is not None else "epoch",
    )
    try:
        for epoch in range(first, cfg.epochs + 1):
            order = rng.permutation(n) if plan.shuffle else np.arange(n)
            losses = []
            t0 = time.perf_counter()
            for b in range(n_batches):
                idx = order[b * batch : (b + 1) * batch]
                step = model.train_batch(x_train[idx], targets[idx])
                losses.append(step.loss)
                for name in COUNTED:
                    ops[name] += int(step.ops.get(name, 0))
                bar.update(1)
            wall += time.perf_counter() - t0
            loss = float(np.mean(losses)) if plan.has_loss else math.nan
            # checked once per epoch, before anything is written: a diverged epoch never replaces the
            # last good weights and checkpoint
            if plan.has_loss and not np.isfinite(loss):
                at = next(i for i, v in enumerate(losses) if not np.isfinite(v))
                bad = non_finite_parameters(model)
                raise DivergenceError(
                    f"{cfg.label()} diverged: non-finite loss in epoch {epoch} from step "
                    f"{(epoch - 1) * n_batches + at + 1} (batch {at + 1} of {n_batches}, "
                    f"phase: training; non-finite weights: {', '.join(bad) or 'none yet'}); "
                    f"the last good checkpoint (epoch {epoch - 1}) is kept"
                )
            check_finite(model, cfg.label(), epoch)
            record(epoch, loss)
            bar.set_postfix(test_acc=f"{records[-1]['test_acc']:.3f}")
    finally:
        bar.close()
    return records


def _resume(out, resume: bool, model, rng, k, identity: dict):
    """``(rng, meta)`` of the checkpoint in ``out`` loaded into ``model``, or ``None`` (start from
    scratch).  ``resume=False`` starts over; a damaged checkpoint is moved aside with a warning and
    the run starts over; one from another configuration or bioplast version is refused (it belongs
    to another run: keep it, or start over explicitly)."""
    if out is None or not checkpoints.exists(out):
        return None
    if not resume:
        moved = checkpoints.move_aside(out, "the run was started over (restart requested)")
        warnings.warn(
            f"starting {str(out)!r} over; its checkpoint was moved to {moved.name}", BioplastWarning, stacklevel=3
        )
        return None
    try:
        (state, rng), meta = checkpoints.load(out, (model.state(), rng), k, identity)
        _check_progress(out, meta)
    except checkpoints.CheckpointDamaged as exc:
        moved = checkpoints.move_aside(out, str(exc))
        warnings.warn(f"{exc}; it was moved to {moved.name} and the run starts over", BioplastWarning, stacklevel=3)
        return None
    except checkpoints.CheckpointMismatch as exc:
        raise checkpoints.CheckpointMismatch(
            f"{exc}; to start over in this folder: bioplast train --restart (from Python: resume=False)"
        ) from None
    model.load_state(state)
    return rng, meta


def records_problem(records) -> str | None:
    """``None`` if ``records`` is a history of training records — epochs 0, 1, … in order, a number
    (NaN included) in every column of :data:`RECORD_COLUMNS` — else what is wrong.  Checkpoints and
    results folders are read through it."""
    if not isinstance(records, list):
        return f"records are {type(records).__name__}, expected a list"
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            return f"record {i} is {type(r).__name__}, expected a table"
        bad = [c for c in RECORD_COLUMNS if isinstance(r.get(c), bool) or not isinstance(r.get(c), (int, float))]
        if bad:
            return f"record {i} lacks numbers for {bad}"
        if r["epoch"] != i:
            return f"record {i} is of epoch {r['epoch']!r}, expected {i}"
    return None


def _check_progress(out, meta: dict) -> None:
    """The progress a checkpoint declares is a consistent history: epochs 0…E recorded once each,
    with every record column, a wall time and the operation counts."""
    epoch, records = meta.get("epoch"), meta.get("records")
    where = f"checkpoint in {str(out)!r}"
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise checkpoints.CheckpointDamaged(f"{where} declares epoch {epoch!r}; expected an integer >= 0")
    problem = records_problem(records)
    if problem is None and isinstance(records, list) and len(records) != epoch + 1:
        problem = f"{len(records)} records for epochs 0…{epoch}"
    if problem is not None:
        raise checkpoints.CheckpointDamaged(f"{where} does not hold one record for each epoch 0…{epoch}: {problem}")
    ops = meta.get("ops")
    if not isinstance(ops, dict) or any(not isinstance(ops.get(n), int) or ops[n] < 0 for n in OPS):
        raise checkpoints.CheckpointDamaged(f"{where} lacks the operation counts {list(OPS)} (integers >= 0)")
    if not isinstance(meta.get("wall_time_s"), (int, float)):
        raise checkpoints.CheckpointDamaged(f"{where} lacks its wall time")


def check_finite(model, label: str, epoch: int) -> None:
    """:class:`~bioplast.errors.DivergenceError` naming the parameter if any weight is not finite."""
    bad = non_finite_parameters(model)
    if bad:
        raise DivergenceError(
            f"{label} diverged: non-finite weights in {', '.join(bad)} after epoch {epoch} (phase: weight update)"
        )


def non_finite_parameters(model) -> list:
    """The names of ``model``'s parameters that hold a NaN or an infinity (its ``parameter_names()``
    where it has them: the layer they belong to)."""
    params = model.parameters()
    names = getattr(model, "parameter_names", lambda: [f"parameter {i}" for i in range(len(params))])()
    bad = []
    for name, w in zip(names, params, strict=True):
        host = w.detach().cpu().numpy() if hasattr(w, "detach") else np.asarray(w)
        if not np.isfinite(host).all():
            bad.append(name)
    return bad


def write_epoch(out: Path, records: list, arrays: dict, state, meta: dict) -> None:
    """A run folder after an epoch, each file atomically: ``metrics.csv``, ``metrics.json``,
    ``weights.npz``, and last the checkpoint, so that it always describes files already complete."""
    atomic_write_csv(out / "metrics.csv", records, RECORD_COLUMNS)
    atomic_write_json(out / "metrics.json", records)
    atomic_save_npz(out / "weights.npz", **arrays)
    checkpoints.save(out, state, meta)


def progress_bar(total: int, desc: str, progress, unit: str = "batch"):
    """A run's tqdm bar.  ``progress``: ``False`` (none), ``True`` (the next free line) or an ``int``,
    the terminal line to draw on (a parallel sweep gives each worker process its own line)."""
    position = None if isinstance(progress, bool) else int(progress)
    return tqdm(total=total, desc=desc, disable=progress is False, leave=False, unit=unit, position=position)


def load_records(folder) -> list:
    """Read the records a run wrote (JSON, no code execution)."""
    return json.loads((Path(folder) / "metrics.json").read_text())
