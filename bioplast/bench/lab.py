"""Lab experiments as suite jobs: the student–teacher studies of curl learning (Ninou et al. 2025).

A suite run with ``kind = "lab"`` names an ``experiment`` and its
``settings`` (keyword arguments of the experiment's function)::

    [[runs]]
    label = "phase diagram"
    kind = "lab"
    experiment = "phase_diagram"
    settings = { c_values = [0.2, 0.5, 1.0, 2.0] }

========================  ==============================================================
experiment                function
========================  ==============================================================
``phase_diagram``         :func:`bioplast.experiments.curl.phase_diagram`
``chaos``                 :func:`bioplast.experiments.curl.chaos_sweep`
``saddle_escape``         :func:`bioplast.experiments.saddle.saddle_escape` (numba only)
========================  ==============================================================

The job's seed is the experiment's ``seed`` (its first teacher) and its
backend the lab backend (``numba``, ``numpy`` or ``torch``).  A lab job writes
``lab.json`` (its table, atomically) and ``lab.png`` into its run folder;
the suite report shows the table and the figure.  A lab job is the unit of
resumption: a finished one is not run again, an interrupted one restarts.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from bioplast.errors import ConfigError, unknown_name
from bioplast.experiments import curl as ce
from bioplast.experiments import saddle as se
from bioplast.figures import finish, pyplot, save_png
from bioplast.io import atomic_write_json

LAB_BACKENDS = ("numba", "numpy", "torch")
LAB_TASK = "student-teacher"  # the task column of a lab job: it makes its own data


EXPERIMENTS = ("phase_diagram", "chaos", "saddle_escape")


def _experiments() -> dict:
    """Experiment name → its function (looked up when a job runs, so tests can replace one)."""
    return {"phase_diagram": ce.phase_diagram, "chaos": ce.chaos_sweep, "saddle_escape": se.saddle_escape}


@dataclass(frozen=True)
class LabConfig:
    """One lab job: ``experiment`` run with ``settings`` (its keyword arguments), ``seed``, ``backend``."""

    experiment: str
    settings: dict = field(default_factory=dict)
    seed: int = 0
    backend: str = "numba"
    task: str = LAB_TASK

    def validate(self) -> LabConfig:
        functions = _experiments()
        if self.experiment not in functions:
            raise unknown_name("lab experiment", self.experiment, EXPERIMENTS)
        if not isinstance(self.settings, dict):
            raise ConfigError(f"lab settings must be a table of keyword arguments, got {self.settings!r}")
        accepted = set(inspect.signature(functions[self.experiment]).parameters) - {
            "seed",
            "backend",
            "progress",
            "cache",
        }
        for key in self.settings:
            if key not in accepted:
                raise unknown_name(f"setting of lab experiment {self.experiment!r}", key, sorted(accepted))
        if self.backend not in LAB_BACKENDS:
            raise unknown_name("lab backend", self.backend, LAB_BACKENDS)
        if "backend" not in inspect.signature(functions[self.experiment]).parameters and self.backend != "numba":
            raise ConfigError(f"lab experiment {self.experiment!r} runs on numba only, got backend {self.backend!r}")
        if self.task != LAB_TASK:
            raise ConfigError(f"a lab job makes its own {LAB_TASK!r} data, got task {self.task!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be an integer >= 0, got {self.seed!r}")
        return self


def run_lab(cfg: LabConfig, out, progress=False) -> dict:
    """Run one lab job into ``out``: ``{"experiment", "rows", "figure"}`` (also written to ``lab.json``)."""
    cfg.validate()
    out = Path(out)
    fn = _experiments()[cfg.experiment]
    kwargs = dict(cfg.settings, seed=cfg.seed)
    if "backend" in inspect.signature(fn).parameters:
        kwargs["backend"] = cfg.backend
    bar = None
    if progress is not False and cfg.experiment == "phase_diagram":
        from tqdm.auto import tqdm

        bar = tqdm(desc="phase diagram", unit="c", leave=False, position=None if progress is True else progress)

        def advance(i, n):
            bar.total = n
            bar.update(1)

        kwargs["progress"] = advance
    try:
        result = fn(**kwargs)
    finally:
        if bar is not None:
            bar.close()
    rows = _rows(cfg.experiment, result)
    PLOTS[cfg.experiment](result, out / "lab.png")
    lab = {"experiment": cfg.experiment, "rows": rows, "figure": "lab.png"}
    atomic_write_json(out / "lab.json", lab)
    return lab


def _rows(experiment: str, result) -> list:
    return result.rows() if experiment == "saddle_escape" else result


def plot_phase_diagram(rows: list, path) -> None:
    """Critical flip fraction vs ``c``: theory lines, simulation markers, the exact bounds 1/4 and 2/3."""
    fig, ax = pyplot().subplots(figsize=(6, 4))
    cs = [r["c"] for r in rows]
    ax.plot(cs, [r["hidden_layer_flips"] for r in rows], marker="o", label="hidden-layer flips (D₁): theory")
    ax.plot(cs, [r["readout_flips"] for r in rows], marker="s", label="readout flips (D₂): theory")
    ax.plot(
        cs,
        [r["sim_inputs"] for r in rows],
        ls="none",
        marker="x",
        ms=8,
        color="C0",
        label="hidden-layer flips: simulation",
    )
    ax.plot(
        cs, [r["sim_hidden"] for r in rows], ls="none", marker="+", ms=9, color="C1", label="readout flips: simulation"
    )
    ax.axvline(0.25, color="gray", ls=":", lw=1)
    ax.axvline(2 / 3, color="gray", ls="--", lw=1)
    ax.set_xscale("log")
    finish(
        fig,
        ax,
        path,
        xlabel="c = inputs / hidden",
        ylabel="critical flip fraction",
        title="Linear two-layer network: stable below the curves",
        ylim=(0, 1.05),
    )


def plot_chaos(rows: list, path) -> None:
    """Lyapunov exponent and order parameter against the fraction of flipped inputs (two panels)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharex=True)
    f = [max(r["fraction"], 1e-3) for r in rows]
    for ax, key, label in (
        (axes[0], "lyapunov", "largest Lyapunov exponent (per unit time)"),
        (axes[1], "order_parameter", "q = log₁₀(E_final / E_start)"),
    ):
        ax.plot(f, [r[key] for r in rows], marker="o")
        ax.axhline(0, color="gray", lw=1)
        ax.set(xscale="log", xlabel="fraction of flipped inputs (0 drawn at 1e-3)", ylabel=label)
        ax.grid(alpha=0.3)
    fig.suptitle("Learning either side of the threshold: > 0 = learning leaves the solution")
    fig.tight_layout()
    save_png(fig, Path(path))
    plt.close(fig)


def plot_saddle(result, path) -> None:
    """Median test loss over seeds (band: range) per learner, one panel per value of the swept parameter."""

    plt = pyplot()
    n = len(result.values)
    fig, axes = plt.subplots(1, n, figsize=(4.5 * n, 3.6), sharey=True, squeeze=False)
    for i, value in enumerate(result.values):
        ax = axes[0, i]
        for j, learner in enumerate(result.learners):
            curves = result.test_error[:, i, j]
            seen = ~np.isnan(curves).all(0)  # a run stopped once every learner had reached the threshold
            at, curves = result.steps[seen][1:], curves[:, seen][:, 1:]
            ax.plot(at, np.nanmedian(curves, 0), label=learner, color=f"C{j}")
            ax.fill_between(at, np.nanmin(curves, 0), np.nanmax(curves, 0), color=f"C{j}", alpha=0.12)
        ax.axhline(result.protocol.threshold, color="gray", ls=":", lw=1)
        ax.set(xscale="log", yscale="log", title=f"{result.parameter} = {value}", xlabel="full-batch step")
    axes[0, 0].set_ylabel("test loss")
    axes[0, 0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    save_png(fig, Path(path))
    plt.close(fig)


PLOTS = {"phase_diagram": plot_phase_diagram, "chaos": plot_chaos, "saddle_escape": plot_saddle}
