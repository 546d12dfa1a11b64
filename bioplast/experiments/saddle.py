r"""Saddle escape with rule-flipped readout neurons (Ninou, Kadmon & Cayco-Gajic 2025, Fig. 5).

From large initial weights a two-layer tanh network lingers near saddles before it learns.  The
paper reports that curl descent — gradient descent with the readout plasticity of a few hidden
units flipped (``D₂ = diag(−1, …, −1, 1, …, 1)``, Hebbian ↔ anti-Hebbian) — leaves them sooner:
it reaches a small test loss in fewer epochs than GD, more so for large initial weights
(Fig. 5d), while a linear network gains nothing (Fig. 5c, d).

The protocol (:class:`SaddleProtocol`) is the paper's reference code's:

* teacher and student ``ŷ = tanh(W₂ tanh(W₁ x))``, 100 inputs, 10 hidden units, one output;
* inputs ``x ~ N(0, I/2)``; teacher weights uniform in ``±g/√fan-in`` (``g`` the teacher scale,
  1), student weights uniform in ``±r/√fan-in`` (``r`` the initial scale, 2);
* the update of :mod:`bioplast.dynamics.student_teacher` at learning rate 0.1, with each layer's
  Frobenius norm held at its initial value after every step;
* the time to test loss ``½⟨(ŷ − y)²⟩ < 10⁻³`` on 100 held-out samples, for GD, curl descent,
  feedback alignment (a fixed feedback vector uniform in ``±1/√N``) and FA with the flip,
  every learner of a seed starting from the same weights.

One departure, for cost: the paper trains in minibatches of 10 for 10⁵ epochs with the learning
rate scaled by ``batch / samples`` (each epoch moves the weights by one full-batch step of
0.1); here each step is one full-batch step of 0.1 (the small-batch limit's deterministic
counterpart), so a step here is an epoch there, and the budget is ``max_steps`` of them.

:func:`saddle_escape` runs one setting or a sweep of one parameter; :func:`paper_figures` runs
Fig. 5b–f and the linear and small-initialisation controls.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from bioplast.data.teacher import TeacherTask, labelled_task
from bioplast.dynamics.student_teacher import record_steps, sweep
from bioplast.errors import ConfigError, unknown_name
from bioplast.validate import positive, positive_int

LEARNERS = ("GD", "curl", "FA", "FA + flip")
_FLIPPED_LEARNERS = ("curl", "FA + flip")
_FEEDBACK_LEARNERS = ("FA", "FA + flip")


@dataclass(frozen=True)
class SaddleProtocol:
    """One setting of the saddle-escape experiment (defaults: the paper's Fig. 5 reference setting,
    full batch over 2,000 training samples)."""

    activation: str = "tanh"
    n_in: int = 100
    n_hidden: int = 10
    n_train: int = 2000
    n_test: int = 100
    init_scale: float = 2.0
    teacher_scale: float = 1.0
    flipped: int = 1
    lr: float = 0.1
    max_steps: int = 20_000
    threshold: float = 1e-3
    records: int = 120
    hold_norms: bool = True  # keep each layer's Frobenius norm at its initial value after every step

    def __post_init__(self):
        if self.activation not in ("tanh", "identity"):
            raise unknown_name("saddle-escape activation", self.activation, ("tanh", "identity"))
        for name in ("n_in", "n_hidden", "n_train", "n_test", "max_steps", "records"):
            positive_int(name, getattr(self, name))
        positive_int("max_steps", self.max_steps, maximum=10**6)
        for name in ("init_scale", "teacher_scale", "lr", "threshold"):
            positive(name, getattr(self, name))
        positive_int("flipped", self.flipped, allow_zero=True, maximum=self.n_hidden)

    def with_value(self, parameter: str, value) -> SaddleProtocol:
        """This protocol with ``parameter`` set to ``value`` (a clear error for an unknown name)."""
        fields = [f.name for f in dataclasses.fields(self)]
        if parameter not in fields:
            raise unknown_name("saddle-escape parameter", parameter, fields)
        kind = type(getattr(self, parameter))
        return dataclasses.replace(self, **{parameter: kind(value)})


class SaddleEscape(NamedTuple):
    """Times to threshold of each learner, over seeds and the values of one swept parameter."""

    parameter: str  # the swept protocol field ("init_scale" when nothing is swept)
    values: tuple
    learners: tuple
    steps: np.ndarray  # recorded steps
    test_error: np.ndarray  # [seed, value, learner, record] (NaN after a run stopped early)
    hit: np.ndarray  # [seed, value, learner]: first recorded step below threshold (inf: not in budget)
    protocol: SaddleProtocol

    def column(self, learner: str) -> int:
        if learner not in self.learners:
            raise unknown_name("learner", learner, self.learners)
        return self.learners.index(learner)

    def curl_faster(self, value_index: int) -> tuple:
        """``(seeds where curl reached the threshold strictly first, seeds where either reached it)``."""
        gd, cd = self.hit[:, value_index, self.column("GD")], self.hit[:, value_index, self.column("curl")]
        decided = np.isfinite(gd) | np.isfinite(cd)
        return int((cd < gd).sum()), int(decided.sum())

    def speedup(self, value_index: int) -> float:
        """Median over the decided seeds (either reached the threshold) of ``t_GD / t_curl``: ``inf``
        where only curl reached it, 0 where only GD did (NaN when no seed is decided)."""
        gd, cd = self.hit[:, value_index, self.column("GD")], self.hit[:, value_index, self.column("curl")]
        decided = np.isfinite(gd) | np.isfinite(cd)
        if not decided.any():
            return float("nan")
        ratio = np.where(np.isfinite(cd), gd / np.where(np.isfinite(cd), cd, 1.0), 0.0)
        return float(np.median(ratio[decided]))

    def rows(self) -> list:
        """One table row per swept value."""
        rows = []
        for i, v in enumerate(self.values):
            faster, decided = self.curl_faster(i)
            row = {self.parameter: v, "curl_first": faster, "decided": decided, "seeds": int(self.hit.shape[0])}
            row["speedup_median"] = self.speedup(i)
            for j, learner in enumerate(self.learners):
                hit = self.hit[:, i, j]
                row[f"{learner} reached"] = int(np.isfinite(hit).sum())
                row[f"{learner} median steps"] = float(np.median(hit))
            rows.append(row)
        return rows


def _uniform(rng, shape, scale: float) -> np.ndarray:
    """Uniform in ``±scale/√fan-in`` (fan-in: the last axis), the reference code's initialisation."""
    bound = scale / np.sqrt(shape[-1])
    return rng.uniform(-bound, bound, shape)


def _task(p: SaddleProtocol, rng) -> TeacherTask:
    w1 = _uniform(rng, (p.n_hidden, p.n_in), p.teacher_scale)
    w2 = _uniform(rng, (1, p.n_hidden), p.teacher_scale)
    return labelled_task(w1, w2, p.n_train, p.n_test, p.activation, p.activation, 2**-0.5, rng)


def _until_threshold(w1, w2, task, d2, feedback, p: SaddleProtocol) -> tuple:
    """Full-batch runs advanced record interval by record interval, stopped once every run is below
    the threshold (the trajectory is that of one uninterrupted run: full-batch steps draw no samples,
    and the norms each interval holds are the initial ones).  Returns ``(steps, test_error)``."""
    at = record_steps(p.max_steps, p.records)
    errors = np.full((len(w1), at.size), np.nan)
    for k in range(1, at.size):
        # records=2 records steps 0, 1 and the interval's last: its first and last errors are ours
        run = sweep(w1, w2, task, p.lr, int(at[k] - at[k - 1]), None, d2, feedback, renormalise=p.hold_norms, records=2)
        w1, w2 = run.w1, run.w2
        if k == 1:
            errors[:, 0] = run.test_error[:, 0]
        errors[:, k] = run.test_error[:, -1]
        if (np.nanmin(errors[:, : k + 1], axis=1) < p.threshold).all():
            break
    return at, errors


def _one_seed(p: SaddleProtocol, learners: tuple, teacher: int, cache: dict) -> tuple:
    """Test-error curves ``[learner, record]`` of every learner on teacher ``teacher``; ``cache``
    holds the curves of runs already made (the same protocol, learners and teacher give the same
    runs: everything is drawn from the teacher's seed)."""
    rng = np.random.default_rng([teacher, p.n_train])
    task = _task(p, rng)
    a, b = _uniform(rng, (p.n_hidden, p.n_in), p.init_scale), _uniform(rng, (1, p.n_hidden), p.init_scale)
    feedback = _uniform(rng, (1, p.n_hidden), 1.0)
    flip = np.ones(p.n_hidden)
    flip[: p.flipped] = -1.0
    curves = np.empty((len(learners), 0))
    at = None
    groups = [[x for x in learners if x not in _FEEDBACK_LEARNERS], [x for x in learners if x in _FEEDBACK_LEARNERS]]
    for group, fb in zip(groups, (None, feedback), strict=True):
        if not group:
            continue
        key = (p, tuple(group), teacher)
        if key not in cache:
            d2 = np.array([flip if x in _FLIPPED_LEARNERS else np.ones(p.n_hidden) for x in group])
            runs = len(group)
            cache[key] = _until_threshold(np.stack([a] * runs), np.stack([b] * runs), task, d2, fb, p)
        at, err = cache[key]
        if curves.shape[1] == 0:
            curves = np.full((len(learners), at.size), np.nan)
        curves[[learners.index(x) for x in group]] = err
    return at, curves


def saddle_escape(
    protocol=None,
    parameter: str = "init_scale",
    values=None,
    seeds: int = 5,
    learners=LEARNERS,
    seed: int = 0,
    progress=None,
    cache: dict | None = None,
) -> SaddleEscape:
    """Time to threshold of each learner on teachers ``seed … seed + seeds − 1``, for each value of
    ``parameter`` (a :class:`SaddleProtocol` field; ``values`` ``None``: the protocol's own value).

    ``protocol`` is a :class:`SaddleProtocol` or a table of its fields (suite settings);
    ``progress(i, n)`` after each (value, seed); ``cache`` (a dict) shares runs between calls."""
    p = protocol if isinstance(protocol, SaddleProtocol) else SaddleProtocol(**(protocol or {}))
    learners = tuple(learners)
    for x in learners:
        if x not in LEARNERS:
            raise unknown_name("learner", x, LEARNERS)
    if len(set(learners)) != len(learners) or not learners:
        raise ConfigError(f"learners must be distinct names from {LEARNERS}, got {learners}")
    values = (getattr(p, parameter),) if values is None else tuple(values)
    settings = [p.with_value(parameter, v) for v in values]
    n = positive_int("seeds", seeds, maximum=1000)
    at = record_steps(p.max_steps, p.records)
    errors = np.full((n, len(values), len(learners), at.size), np.nan)
    for i, setting in enumerate(settings):
        for s in range(n):
            _, errors[s, i] = _one_seed(setting, learners, seed + s, {} if cache is None else cache)
            if progress:
                progress(i * n + s + 1, n * len(values))
    below = np.nan_to_num(errors, nan=np.inf) < p.threshold
    hit = np.where(below.any(-1), at[np.argmax(below, -1)], np.inf)
    return SaddleEscape(parameter, tuple(getattr(x, parameter) for x in settings), learners, at, errors, hit, p)


# Fig. 5 of Ninou et al. (2025): the swept parameter, its values and the learners compared.  The
# grids are coarser than the paper's (its 10⁵-epoch runs at 10,000 samples do not fit a laptop);
# every other setting is the reference one.
FIGURES = {
    "5b": ("init_scale", (2.0,), LEARNERS),
    "5c": ("n_train", (250, 500, 1000, 2000), ("GD", "curl")),
    "5d": ("init_scale", (0.1, 0.5, 1.0, 2.0, 4.0), ("GD", "curl")),
    "5e": ("teacher_scale", (0.5, 1.0, 2.0, 3.0), ("GD", "curl")),
    "5f": ("flipped", (1, 2, 5, 10), ("GD", "curl")),
}
# The controls: a linear network (the paper's linear runs use 150 samples) and small initial weights,
# each with the norms held and free.  Held at r = 0.1, the student's norm stays far below the
# teacher's and no learner can reach the threshold; the reference code holds the norms only in its
# teacher-scale runs (5e), so the free-norm controls are the paper's own setting for the others.
CONTROLS: dict[str, tuple[dict[str, Any], str, tuple]] = {
    "linear": ({"activation": "identity", "n_train": 150}, "init_scale", (0.1, 2.0)),
    "small-init": ({}, "init_scale", (0.1,)),
    "linear, free norms": ({"activation": "identity", "n_train": 150, "hold_norms": False}, "init_scale", (0.1, 2.0)),
    "small-init, free norms": ({"hold_norms": False}, "init_scale", (0.1,)),
}


def paper_figures(protocol=None, seeds: int = 5, figures=None, seed: int = 0, progress=None) -> dict:
    """Fig. 5b–f and the controls: ``{name: SaddleEscape}`` (``figures``: a subset of the names of
    :data:`FIGURES` and :data:`CONTROLS`; ``progress(name)`` before each)."""
    base = protocol if isinstance(protocol, SaddleProtocol) else SaddleProtocol(**(protocol or {}))
    names = list(FIGURES) + list(CONTROLS) if figures is None else list(figures)
    out: dict = {}
    cache: dict = {}  # Fig. 5b's runs are points of 5c–f too
    for name in names:
        if progress:
            progress(name)
        if name in FIGURES:
            parameter, values, learners = FIGURES[name]
            out[name] = saddle_escape(base, parameter, values, seeds, learners, seed, cache=cache)
        elif name in CONTROLS:
            change, parameter, values = CONTROLS[name]
            setting = dataclasses.replace(base, **change)
            out[name] = saddle_escape(setting, parameter, values, seeds, LEARNERS, seed, cache=cache)
        else:
            raise unknown_name("saddle-escape figure", name, list(FIGURES) + list(CONTROLS))
    return out
