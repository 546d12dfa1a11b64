"""Figures for comparisons: learning curves, alignment with backprop, accuracy against time,
energy, synaptic operations and the cost of learning, and robustness to the substrate (PNG,
paper-ready)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from bioplast.figures import finish, pyplot


def learning_curves(
    rows: list, path, title: str = "", key: str = "test_acc", ylabel: str = "test accuracy", ylim=(0, 1)
) -> None:
    """``key`` (default test accuracy) vs epoch, mean ± std over seeds, one line per rule; records
    where ``key`` is undefined (NaN) are left out."""
    plt = pyplot()
    by_rule: defaultdict[str, defaultdict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if _defined(r.get(key)):
            by_rule[r["rule"]][r["epoch"]].append(r[key])
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for i, (rule, per_epoch) in enumerate(sorted(by_rule.items())):
        epochs = sorted(per_epoch)
        mean = np.array([np.mean(per_epoch[e]) for e in epochs])
        std = np.array([np.std(per_epoch[e]) for e in epochs])
        # line styles and markers cycle so that curves on top of each other stay visible
        ax.plot(epochs, mean, marker="os^vD"[i % 5], ms=3, ls=("-", "--", ":", "-.")[i % 4], label=rule)
        ax.fill_between(epochs, mean - std, mean + std, alpha=0.2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    finish(fig, ax, path, xlabel="epoch", ylabel=ylabel, title=title, ylim=ylim)


def _defined(value) -> bool:
    return value is not None and bool(np.isfinite(value))


def accuracy_vs(rows: list, key: str, path, xlabel: str, title: str = "") -> None:
    """Final test accuracy against a run's cumulative cost ``key`` (``wall_time_s``, ``energy_J``;
    log scale), one point per run, one colour per rule; runs without the cost are left out."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    last = [r for r in _last_epochs(rows).values() if _defined(r.get(key)) and r[key] > 0]
    for rule in dict.fromkeys(r["rule"] for r in last):
        sel = [r for r in last if r["rule"] == rule]
        ax.scatter([r[key] for r in sel], [r["test_acc"] for r in sel], label=rule, s=18)
    ax.set_xscale("log")
    finish(fig, ax, path, xlabel=f"{xlabel} (log scale)", ylabel="final test accuracy", title=title, ylim=(0, 1))


# what the accuracy-vs-learning-cost plot puts on its axis, first choice first: the estimated energy
# where the substrates have figures, else the plasticity operations (always counted)
LEARNING_COSTS = (
    ("learning_energy_J", "estimated learning energy (J)"),
    ("plasticity_ops", "plasticity operations of the run (effective)"),
)


def learning_cost(rows: list):
    """``(column, axis label)`` of the first of :data:`LEARNING_COSTS` that every run defines
    (so one plot compares all runs on one quantity); ``None`` when none does."""
    last = list(_last_epochs(rows).values())
    for key, label in LEARNING_COSTS:
        if last and all(_defined(r.get(key)) and r[key] > 0 for r in last):
            return key, label
    return None


def has_values(rows: list, key: str) -> bool:
    """Whether any record defines ``key`` (an energy figure, an alignment), i.e. the plot has data."""
    return any(_defined(r.get(key)) for r in rows)


def _last_epochs(rows: list) -> dict:
    last: dict[str, dict] = {}
    for r in rows:
        if r["epoch"] is not None and (r["run_id"] not in last or r["epoch"] > last[r["run_id"]]["epoch"]):
            last[r["run_id"]] = r
    return last


def swept_substrate_params(rows: list) -> list:
    """Substrate parameters that take more than one value within one series of runs (the robustness
    sweeps; a series is a label up to its first " @ ", as in "backprop @ 4 bits")."""
    import json

    values = defaultdict(set)
    for r in rows:
        for key, value in json.loads(r.get("substrate_params") or "{}").items():
            values[(r["rule"].split(" @ ")[0], key)].add(json.dumps(value))
    return sorted({key for (_, key), v in values.items() if len(v) > 1})


def robustness(rows: list, param: str, path, title: str = "") -> None:
    """Final test accuracy (mean ± std over seeds) against one swept substrate parameter, one line
    per series — the run label up to its first " @ " (labels such as "backprop @ 4 bits").  A series'
    other substrate parameters may be set too, to one value each (a spiking sweep's sign mode)."""
    import json

    plt = pyplot()
    values: defaultdict[str, defaultdict[Any, list[float]]] = defaultdict(lambda: defaultdict(list))
    fixed = defaultdict(set)
    for r in _last_epochs(rows).values():
        params = json.loads(r.get("substrate_params") or "{}")
        if param in params:
            name = r["rule"].split(" @ ")[0]
            values[name][params[param]].append(r["test_acc"])
            fixed[name].add(json.dumps({k: v for k, v in params.items() if k != param}, sort_keys=True))
    series = {name: v for name, v in values.items() if len(fixed[name]) == 1}  # one sweep, not a grid
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for name, per_value in series.items():
        xs = sorted(per_value)
        ax.errorbar(
            xs,
            [np.mean(per_value[x]) for x in xs],
            [np.std(per_value[x]) for x in xs],
            marker="o",
            ms=3,
            capsize=2,
            label=name,
        )
    if param == "bits":
        ax.set_xticks(sorted({x for v in series.values() for x in v}))
    finish(fig, ax, path, xlabel=param.replace("_", " "), ylabel="final test accuracy", title=title, ylim=(0, 1))
