"""Run a suite: every job trains into its own folder, resumably; one tidy results table.

``run_suite(suite, out)`` writes, in ``out``:

* ``runs/<run_id>/`` — each run's ``bioplast train`` folder (config, metrics,
  weights, checkpoint), plus ``status.json`` (done / failed + error) and
  ``run.log``;
* ``results.csv`` (and ``results.parquet`` when pyarrow is installed) — one row
  per (run, epoch), columns :data:`COLUMNS`;
* ``summary.csv`` / ``report.md`` / ``report.html`` — final test accuracy mean
  ± std over seeds per (label, task), with learning-curve, accuracy-vs-time,
  accuracy-vs-synaptic-operations and accuracy-vs-learning-cost plots (PNG; the
  HTML embeds them);
* ``runs/<run_id>/neurobench.json`` — each run's metrics in NeuroBench's format
  (:mod:`bioplast.metrics`).

Runs are resumable and safe: a finished or failed run is not run again (its
status file says so), an interrupted one resumes from its checkpoint, and a
run that raises a :class:`~bioplast.errors.BioplastError` (divergence, bad
data) is recorded as failed while the sweep goes on.  Re-running the same
command after a kill gives the same table, without duplicates.

Executors: ``local`` (``workers`` processes on this machine; 1 = in process)
and ``dask`` (a ``dask.distributed`` scheduler address; dask-jobqueue
clusters give one for SLURM/PBS).
"""

from __future__ import annotations

import base64
import json
import math
import os
import signal
import subprocess
import threading
import time
import traceback
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from bioplast import __version__
from bioplast.analysis.alignment import standard_measures
from bioplast.bench import plots, runfolder
from bioplast.bench.baseline import against_baseline
from bioplast.bench.lab import LAB_TASK, LabConfig, run_lab
from bioplast.bench.suite import Job, expand, load_suite, make_config
from bioplast.errors import BioplastError, BioplastWarning, ConfigError, unknown_name
from bioplast.io import atomic_write_bytes, atomic_write_csv, atomic_write_text, ensure_dir
from bioplast.optional import available, require
from bioplast.training import RECORD_COLUMNS, SpikingConfig, records_problem, train
from bioplast.training.checkpoints import CheckpointMismatch

COLUMNS = [
    "suite",
    "label",
    "rule",
    "task",
    "backend",
    "substrate",
    "substrate_params",
    "seed",
    "optimizer",
    "lr",
    "network",
    "params",
    *RECORD_COLUMNS,  # one training record's columns, in the loop's order
    "status",
    "error",
    "run_id",
    "bioplast_version",
    "git_commit",
]
EXECUTORS = ("local", "dask")
# summary: means over seeds at the last epoch
MEANS = (
    "wall_time_s",
    "synops",
    "energy_J",
    "grad_alignment",
    "effective_synops",
    "learning_energy_J",
    "plasticity_ops",
)
_LIMITS = None  # a worker's thread limits, kept alive for the worker's lifetime
_BAR_LINE = False  # a worker's line for its runs' progress bars (False: no bars)


def run_job(job: Job, run_dir: str, progress=False) -> dict:
    """Train one job into ``run_dir`` (resuming), record its status; never raises a BioplastError.

    The folder is locked while the job runs in it (:func:`~bioplast.bench.runfolder.locked`); a
    folder another process trains in makes this job fail, by name.  A status file that is missing,
    unreadable or invalid (:func:`~bioplast.bench.runfolder.read_status`: wrong types, edited,
    records without the current results schema's columns) counts as unfinished and the job runs
    again; a damaged checkpoint, or one from another bioplast version, restarts the run from
    scratch.  The run's log records each of these.
    """
    folder = ensure_dir(run_dir)
    log = folder / "run.log"
    try:
        with runfolder.locked(folder):
            return _run_unlocked(job, folder, log, progress)
    except runfolder.RunFolderBusy as exc:
        return {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "records": []}


def _run_unlocked(job: Job, run_dir: Path, log: Path, progress) -> dict:
    status_file = run_dir / runfolder.STATUS
    status, why = runfolder.read_status(run_dir)
    if status is not None:
        return status
    if why:
        _append(log, f"{why}; running the job again")
        status_file.unlink(missing_ok=True)
    t0 = time.perf_counter()
    _append(log, f"start {job.run_id}: {json.dumps(job.config, sort_keys=True, default=list)}")
    cfg = make_config(job.config)
    measures = standard_measures()
    try:
        if isinstance(cfg, LabConfig):  # an experiment, not a training run: its table instead of records
            lab = run_lab(cfg, run_dir, progress)
            status = {"status": "done", "error": "", "records": [], "lab": lab}
            return _finish(status, status_file, log, t0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BioplastWarning)
            try:
                records = train(cfg, out=run_dir, progress=progress, measures=measures)
            except CheckpointMismatch as exc:
                _append(log, f"checkpoint unusable ({exc}); restarting the run from scratch")
                records = train(cfg, out=run_dir, progress=progress, resume=False, measures=measures)
        for w in caught:
            _append(log, f"warning: {w.message}")
        status = {"status": "done", "error": "", "records": records}
    except BioplastError as exc:
        status = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "records": _last_records(run_dir)}
        _append(log, traceback.format_exc())
    return _finish(status, status_file, log, t0)


def _last_records(run_dir: Path) -> list:
    """The records a failed run had written (``[]`` if none, or if ``metrics.json`` is not valid)."""
    try:
        records = json.loads((run_dir / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return []
    return records if records_problem(records) is None else []


def _finish(status: dict, status_file: Path, log: Path, t0: float) -> dict:
    status["elapsed_s"] = time.perf_counter() - t0
    runfolder.write_status(status_file.parent, status)
    _append(log, f"{status['status']} after {status['elapsed_s']:.2f} s {status['error']}")
    return status


def _append(path: Path, line: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")


def _die_with(parent: int) -> None:
    """End this worker when the sweep that started it ends, however it ends (SIGKILL included): the
    kernel's parent-death signal where there is one (Linux), and a thread that watches the parent."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the watcher alone
        pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="bioplast-parent-watch", daemon=True).start()


def _init_worker(lock, workers_started, progress: bool, parent: int) -> None:
    """Worker initialiser: die with the sweep (:func:`_die_with`), one BLAS/torch thread per process
    (the processes are the parallelism), and with ``progress`` a terminal line of its own for its
    runs' bars, under the sweep's (tqdm's shared lock keeps the processes' writes apart)."""
    _die_with(parent)
    threadpoolctl = require("threadpoolctl", "worker processes (--workers)")
    if available("torch"):
        import torch

        torch.set_num_threads(1)
    global _LIMITS, _BAR_LINE
    _LIMITS = threadpoolctl.threadpool_limits(1)
    tqdm.set_lock(lock)
    with workers_started.get_lock():
        workers_started.value += 1
        _BAR_LINE = workers_started.value if progress else False


def _run_in_worker(job: Job, run_dir: str) -> dict:
    return run_job(job, run_dir, _BAR_LINE)


def _execute(jobs, out: Path, executor: str, workers: int, scheduler, progress: bool) -> dict:
    dirs = {job.run_id: str(out / "runs" / job.run_id) for job in jobs}
    results = {}
    bar = tqdm(total=len(jobs), desc="sweep", unit="run", disable=not progress, position=0)
    try:
        if executor == "dask":
            distributed = require("distributed", "the dask executor")
            Client, as_completed = distributed.Client, distributed.as_completed

            with Client(scheduler) as client:
                futures = {client.submit(run_job, job, dirs[job.run_id], pure=False): job for job in jobs}
                for fut in as_completed(futures):
                    results[futures[fut].run_id] = fut.result()
                    bar.update(1)
        elif workers == 1:  # in this process: each run shows its own progress bar under the sweep's
            for job in jobs:
                results[job.run_id] = run_job(job, dirs[job.run_id], progress)
                bar.update(1)
        else:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor
            from concurrent.futures import as_completed as done
            from concurrent.futures.process import BrokenProcessPool

            started = multiprocessing.Value("i", 0)
            with ProcessPoolExecutor(
                workers, initializer=_init_worker, initargs=(tqdm.get_lock(), started, progress, os.getpid())
            ) as pool:
                futures = {pool.submit(_run_in_worker, job, dirs[job.run_id]): job for job in jobs}
                for fut in done(futures):
                    try:
                        results[futures[fut].run_id] = fut.result()
                    except BrokenProcessPool:
                        raise BioplastError(
                            f"a worker process died (killed, or out of memory) while running "
                            f"{futures[fut].label!r}; finished runs are kept: run the same command to resume"
                        ) from None
                    bar.update(1)
    finally:
        bar.close()
    return results


def _git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


def table(jobs, results: dict) -> list:
    """One row per (run, epoch); a failed run adds its last good epochs, marked failed."""
    commit = _git_commit()
    rows = []
    for job in jobs:
        status = results[job.run_id]
        cfg = make_config(job.config)
        c = asdict(cfg)  # the values the run used, defaults included
        if isinstance(cfg, LabConfig):  # the experiment is the "rule"; its settings are the parameters
            method = {
                "rule": c["experiment"],
                "substrate": "ideal",
                "substrate_params": "{}",
                "optimizer": "",
                "network": "two-layer",
                "lr": math.nan,
                "params": json.dumps(c["settings"], sort_keys=True),
            }
        elif isinstance(cfg, SpikingConfig):  # the model is the "rule"; its settings are the parameters
            method = {
                "rule": c["model"],
                "substrate": c["substrate"],
                "optimizer": "",
                "substrate_params": json.dumps(c["substrate_params"] or {}, sort_keys=True),
                "network": "spiking",
                "lr": float(c["lr"]),
                "params": json.dumps(
                    {k: c[k] for k in ("n_neurons", "train_samples", "theta_plus")} | {"energy_profile": cfg.profile},
                    sort_keys=True,
                ),
            }
        else:
            method = {
                "rule": c["rule"],
                "substrate": c["substrate"],
                "optimizer": c["optimizer"],
                "substrate_params": json.dumps(c["substrate_params"], sort_keys=True),
                "network": c["network"],
                "lr": float(c["lr"]),
                "params": json.dumps(c["rule_params"], sort_keys=True),
            }
        base = {
            "suite": job.suite,
            "label": job.label,
            "task": c["task"],
            "backend": c["backend"],
            "seed": c["seed"],
            **method,
            "status": status["status"],
            "error": status["error"],
            "run_id": job.run_id,
            "bioplast_version": __version__,
            "git_commit": commit,
        }
        records = status["records"] or [{}]  # a run that failed before its first record: one row, no numbers
        rows += [{**base, **{k: r.get(k) for k in RECORD_COLUMNS}} for r in records]
    return rows


def summarise(rows: list) -> list:
    """Per (label, task) of the training runs (lab jobs have tables of their own, :func:`lab_sections`)."""
    out = []
    rows = [r for r in rows if r["task"] != LAB_TASK]
    for key in dict.fromkeys((r["label"], r["task"]) for r in rows):
        sel = [r for r in rows if (r["label"], r["task"]) == key]
        last = {r["run_id"]: r for r in sel if r["epoch"] is not None}  # each run's last recorded epoch
        acc = np.array([r["test_acc"] for r in last.values() if r["status"] == "done"], dtype=float)
        failed = len({r["run_id"] for r in sel if r["status"] == "failed"})
        out.append(
            {
                "label": key[0],
                "task": key[1],
                "runs": len({r["run_id"] for r in sel}),
                "failed": failed,
                "test_acc_mean": float(acc.mean()) if acc.size else math.nan,
                "test_acc_std": float(acc.std()) if acc.size else math.nan,
                **{f"{c}_mean": _mean([r[c] for r in last.values()]) for c in MEANS},
            }
        )
    return out


def _mean(values) -> float:
    """Mean of the defined values (NaN when none is: no energy figures, no gradient to align with)."""
    v = np.array([np.nan if x is None else x for x in values], dtype=float)
    return float(np.nanmean(v)) if np.isfinite(v).any() else math.nan


def _write_parquet(path: Path, rows: list) -> bool:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    import io

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist([{c: r[c] for c in COLUMNS} for r in rows]), buf)
    atomic_write_bytes(path, buf.getvalue())
    return True


def _accuracy_vs(done: list) -> list:
    """``(file stem, column, x label, title)`` of each final-accuracy-against-a-cost figure the runs
    have data for, in the report's order."""
    figures = [("accuracy_vs_time", "wall_time_s", "training time (s)", "final accuracy vs training time")]
    if plots.has_values(done, "effective_synops"):
        figures.append(
            (
                "accuracy_vs_synops",
                "effective_synops",
                "synaptic operations per inference (effective MACs + ACs)",
                "final accuracy vs synaptic operations",
            )
        )
    cost = plots.learning_cost(done)
    if cost is not None:
        figures.append(("accuracy_vs_learning_cost", *cost, "final accuracy vs the cost of learning"))
    if plots.has_values(done, "energy_J"):
        figures.append(
            ("accuracy_vs_energy", "energy_J", "training energy (J)", "final accuracy vs estimated training energy")
        )
    return figures


def _plots(rows: list, out: Path) -> list:
    names = []
    for task in dict.fromkeys(r["task"] for r in rows if r["task"] != LAB_TASK):
        done = [{**r, "rule": r["label"]} for r in rows if r["task"] == task and r["status"] == "done"]
        if not done:
            continue
        name = f"curves_{task}.png"
        plots.learning_curves(done, out / name, f"{task}: test accuracy (mean ± std over seeds)")
        names.append(name)
        for stem, column, xlabel, title in _accuracy_vs(done):
            name = f"{stem}_{task}.png"
            plots.accuracy_vs(done, column, out / name, xlabel, f"{task}: {title}")
            names.append(name)
        if plots.has_values(done, "grad_alignment"):
            name = f"alignment_{task}.png"
            plots.learning_curves(
                done,
                out / name,
                f"{task}: alignment with backprop (mean ± std over seeds)",
                key="grad_alignment",
                ylabel="cosine with backprop's −∇L",
                ylim=(-0.2, 1.05),
            )
            names.append(name)
        for param in plots.swept_substrate_params(done):
            name = f"robustness_{param}_{task}.png"
            plots.robustness(done, param, out / name, f"{task}: final accuracy vs substrate {param}")
            names.append(name)
    return names


def _accuracy(s: dict) -> str:
    """A summary row's test accuracy, mean ± std over seeds."""
    return "—" if math.isnan(s["test_acc_mean"]) else f"{s['test_acc_mean']:.4f} ± {s['test_acc_std']:.4f}"


def _number(value: float, fmt: str) -> str:
    return "—" if value is None or math.isnan(value) else format(value, fmt)


# the comparison table of report.md / report.html: (header, cell of one summary row)
REPORT_COLUMNS = (
    ("run", lambda s: s["label"]),
    ("task", lambda s: s["task"]),
    ("test accuracy", lambda s: _accuracy(s)),
    ("runs (failed)", lambda s: f"{s['runs']} ({s['failed']})"),
    ("training time (s)", lambda s: _number(s["wall_time_s_mean"], ".2f")),
    ("synaptic ops", lambda s: _number(s["synops_mean"], ".3g")),
    ("energy (J)", lambda s: _number(s["energy_J_mean"], ".3g")),
    ("alignment with backprop", lambda s: _number(s["grad_alignment_mean"], ".3f")),
    ("synaptic ops per inference", lambda s: _number(s["effective_synops_mean"], ".3g")),
    ("plasticity ops", lambda s: _number(s["plasticity_ops_mean"], ".3g")),
    ("learning energy (J, estimate)", lambda s: _number(s["learning_energy_J_mean"], ".3g")),
)


def _md_table(heads: list, cells: list) -> list:
    return ["| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)] + ["| " + " | ".join(r) + " |" for r in cells]


def _html_table(heads: list, cells: list) -> list:
    import html as escape

    return (
        ["<table><tr>" + "".join(f"<th>{escape.escape(h)}</th>" for h in heads) + "</tr>"]
        + ["<tr>" + "".join(f"<td>{escape.escape(c)}</td>" for c in row) + "</tr>" for row in cells]
        + ["</table>"]
    )


def _lab_cell(v) -> str:
    return _number(v, ".3g") if isinstance(v, float) else str(v)


def lab_sections(jobs, results: dict, out: Path) -> list:
    """One report section per lab job: its table, and its figure copied beside the report."""
    sections: list[dict[str, Any]] = []
    for job in jobs:
        if job.config.get("kind") != "lab":
            continue
        status = results[job.run_id]
        title = (
            f"{job.label} (experiment {job.config['experiment']}, seed {job.config['seed']}, {job.config['backend']})"
        )
        lab = status.get("lab")
        if status["status"] != "done" or not lab:
            sections.append(
                {"title": title, "heads": [], "cells": [], "figure": None, "error": status["error"] or "no results"}
            )
            continue
        heads = list(lab["rows"][0]) if lab["rows"] else []
        figure = f"lab_{job.run_id}.png"
        try:  # a name from a file: only ever a file inside the run's own folder
            source = runfolder.inside(out / "runs" / job.run_id, lab["figure"])
        except BioplastError as exc:
            sections.append({"title": title, "heads": [], "cells": [], "figure": None, "error": str(exc)})
            continue
        atomic_write_bytes(out / figure, source.read_bytes())
        sections.append(
            {
                "title": title,
                "heads": heads,
                "figure": figure,
                "error": "",
                "cells": [[_lab_cell(r[h]) for h in heads] for r in lab["rows"]],
            }
        )
    return sections


def _report(summary: list, figures: list, labs: list, suite: dict, overhead: dict, out: Path) -> None:
    import html as escape

    heads = [h for h, _ in REPORT_COLUMNS]
    cells = [[cell(s) for _, cell in REPORT_COLUMNS] for s in summary]
    notes = [
        "Means over seeds at the last epoch. Energy: the substrate's per-operation figures times the "
        "run's operation counts (— where the substrate has no figures); alignment: cosine between the "
        "rule's update and backprop's −∇L on a fixed training batch (— where the rule follows no "
        "loss's gradient). Synaptic ops per inference: NeuroBench's effective MACs + ACs per sample of "
        "an evaluation pass; plasticity ops and learning energy: the whole run's learning (the energy "
        "an estimate from the substrate's per-operation figures)."
        if summary
        else "",
        " ".join(against_baseline(summary)),
        f"Harness time {overhead['harness_s']:.2f} s of {overhead['total_s']:.2f} s "
        f"({overhead['fraction']:.1%}) outside the runs.",
    ]
    notes = [n for n in notes if n]
    lines = [
        f"# Benchmark suite `{suite.get('name', 'suite')}`",
        "",
        f"bioplast {__version__}, commit {_git_commit() or 'unknown'}; seeds {suite['seeds']}, "
        f"backends {suite['backends']}.",
        "",
    ]
    lines += _md_table(heads, cells) if summary else []
    lines += ["", *notes, ""] + [f"![{f}]({f})" for f in figures]
    for lab in labs:
        lines += ["", f"## {lab['title']}", ""]
        lines += (
            [f"Failed: {lab['error']}"]
            if lab["error"]
            else _md_table(lab["heads"], lab["cells"]) + ["", f"![{lab['figure']}]({lab['figure']})"]
        )
    atomic_write_text(out / "report.md", "\n".join(lines) + "\n")
    html = [
        "<!doctype html><meta charset='utf-8'><title>bioplast suite</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px}</style>",
        f"<h1>Benchmark suite {escape.escape(suite.get('name', ''))}</h1>",
    ]
    html += (_html_table(heads, cells) if summary else []) + [f"<p>{escape.escape(n)}</p>" for n in notes]

    def image(f):  # self-contained: the PNGs are embedded
        data = base64.b64encode((out / f).read_bytes()).decode()
        return f"<p><img alt='{f}' src='data:image/png;base64,{data}' style='max-width:100%'></p>"

    html += [image(f) for f in figures]
    for lab in labs:
        html.append(f"<h2>{escape.escape(lab['title'])}</h2>")
        html += (
            [f"<p>Failed: {escape.escape(lab['error'])}</p>"]
            if lab["error"]
            else _html_table(lab["heads"], lab["cells"]) + [image(lab["figure"])]
        )
    atomic_write_text(out / "report.html", "\n".join(html) + "\n")


def run_suite(suite, out, executor: str = "local", workers: int = 1, scheduler=None, progress: bool = True) -> dict:
    """Run (or resume) every job of ``suite`` into ``out``; returns ``{rows, summary, overhead}``."""
    t_start = time.perf_counter()
    suite = load_suite(suite)
    if executor not in EXECUTORS:
        raise unknown_name("executor", executor, EXECUTORS)
    if executor == "dask" and not scheduler:
        raise ConfigError("the dask executor needs --scheduler ADDRESS (e.g. tcp://127.0.0.1:8786)")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be an integer >= 1, got {workers!r}")
    out = ensure_dir(out)
    jobs = expand(suite)
    t_jobs = time.perf_counter()
    results = _execute(jobs, out, executor, workers, scheduler, progress)
    t_after = time.perf_counter()
    rows = table(jobs, results)
    atomic_write_csv(out / "results.csv", rows, COLUMNS)
    _write_parquet(out / "results.parquet", rows)
    summary = summarise(rows)
    atomic_write_csv(out / "summary.csv", summary)
    figures = _plots(rows, out)
    labs = lab_sections(jobs, results, out)
    harness = (t_jobs - t_start) + (time.perf_counter() - t_after)
    total = time.perf_counter() - t_start
    overhead = {"harness_s": harness, "total_s": total, "fraction": harness / total if total else 0.0}
    _report(summary, figures, labs, suite, overhead, out)
    if progress:
        if summary:
            print(_terminal_table(summary))
        for lab in labs:
            outcome = f"failed: {lab['error']}" if lab["error"] else "table and figure in the report"
            print(f"lab: {lab['title']}: {outcome}")
        print(
            f"harness: {harness:.2f} s of {total:.2f} s ({overhead['fraction']:.1%}) outside the runs; "
            f"results in {out}/results.csv, report.md, report.html"
        )
    return {"rows": rows, "summary": summary, "overhead": overhead}


def _terminal_table(summary: list) -> str:
    lines = [f"{'run':<28} {'task':<9} {'test acc':>17} {'runs':>5} {'failed':>6}"]
    for s in summary:
        lines.append(f"{s['label']:<28} {s['task']:<9} {_accuracy(s):>17} {s['runs']:>5} {s['failed']:>6}")
    return "\n".join(lines)
