"""Benchmark suites as data: rules × tasks × backends × seeds, with per-run settings.

A suite is a TOML file (or a built-in name)::

    name = "my-suite"
    tasks = ["digits", "mnist5k"]
    backends = ["numba"]
    seeds = [0, 1, 2]
    epochs = 5

    [[runs]]                      # one entry per compared configuration
    label = "EP symmetric"
    rule = "eqprop"
    optimizer = "adam"
    lr = 0.002
    params = { estimator = "symmetric", cost = "cross_entropy" }

Every key of a ``[[runs]]`` entry other than ``label``/``params`` is a
:class:`~bioplast.train.TrainConfig` field; top-level ``epochs``, ``hidden``
and ``batch_size`` are defaults for all runs.  Unknown keys, rules, tasks and
backends are :class:`~bioplast.errors.ConfigError` naming the closest valid
name, before anything runs.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..errors import ConfigError, DataError, unknown_name

SUITE_KEYS = ("name", "tasks", "backends", "seeds", "epochs", "hidden", "batch_size", "runs")
RUN_DEFAULT_KEYS = ("epochs", "hidden", "batch_size")

# the rules of the substrate sweeps: (series name, rule, rule parameters)
SWEPT = (("backprop", "backprop", {}), ("node perturbation", "node_perturbation", {"probes": 4}),
         ("Oja readout", "oja", {}))

BUILTIN = {
    # the README's main job: the baseline and one rule of each family, < 5 minutes on 2 cores
    "quick": {
        "name": "quick", "tasks": ["digits", "mnist5k"], "backends": ["numba"], "seeds": [0, 1], "epochs": 3,
        "hidden": [128],
        "runs": [
            {"label": "backprop", "rule": "backprop", "lr": 0.05},
            {"label": "EP symmetric", "rule": "eqprop", "optimizer": "adam", "lr": 0.002,
             "params": {"estimator": "symmetric", "cost": "cross_entropy"}},
            {"label": "EG-Dale (backprop, EG)", "rule": "backprop", "optimizer": "eg", "lr": 2.0},
            {"label": "DANN (backprop)", "rule": "backprop", "network": "dann", "lr": 0.05},
            {"label": "Oja readout", "rule": "oja", "lr": 0.05},
            {"label": "curl 10% flipped", "rule": "curl", "lr": 0.05, "params": {"fraction": 0.1}},
        ],
    },
    # EP estimators in the reference configuration of Laborieux et al. (2021), beside backprop
    "eqprop": {
        "name": "eqprop", "tasks": ["mnist5k"], "backends": ["numba"], "seeds": [0, 1, 2], "epochs": 10,
        "hidden": [512], "batch_size": 50,
        "runs": [
            *({"label": f"EP {est}", "rule": "eqprop", "optimizer": "adam", "lr": 5e-4, "activation": "sigmoid4",
               "params": {"estimator": est}} for est in ("one_sided", "random_sign", "symmetric")),
            {"label": "EP holomorphic N=4", "rule": "holo_eqprop", "optimizer": "adam", "lr": 5e-4,
             "activation": "sigmoid4", "params": {"beta": 0.1, "points": 4}},
            {"label": "backprop", "rule": "backprop", "optimizer": "adam", "lr": 5e-4, "activation": "sigmoid4",
             "loss": "mse"},
        ],
    },
    # geometry and E/I architecture under Dale's law (benchmarks/dale.py has the analyses)
    "dale": {
        "name": "dale", "tasks": ["digits", "mnist5k"], "backends": ["numba"], "seeds": [0, 1, 2], "epochs": 10,
        "hidden": [256],
        "runs": [
            {"label": "GD", "rule": "backprop", "lr": 0.05},
            {"label": "sign-frozen GD", "rule": "backprop", "lr": 0.05, "sign_frozen": True},
            {"label": "EG", "rule": "backprop", "optimizer": "eg", "lr": 2.0},
            {"label": "DANN", "rule": "backprop", "network": "dann", "lr": 0.05},
            {"label": "column E/I MLP", "rule": "backprop", "network": "ei_mlp", "lr": 0.05},
        ],
    },
    # sign-diverse ("curl") plasticity against backprop and feedback alignment (Ninou et al. 2025);
    # layer 0's flips act on the inputs (hidden-layer plasticity), layer 1's on the hidden units
    # (readout plasticity).  The dynamics analyses are benchmarks/curl_*.py
    "curl": {
        "name": "curl", "tasks": ["digits", "mnist5k"], "backends": ["numba"], "seeds": [0, 1, 2], "epochs": 5,
        "hidden": [128],
        "runs": [
            {"label": "backprop", "rule": "backprop", "lr": 0.05},
            *({"label": f"curl {int(100 * f)}% (all layers)", "rule": "curl", "lr": 0.05, "params": {"fraction": f}}
              for f in (0.05, 0.2, 0.5)),
            {"label": "curl 20% hidden-layer flips", "rule": "curl", "lr": 0.05, "params": {"fraction": [0.2, 0.0]}},
            {"label": "curl 20% readout flips", "rule": "curl", "lr": 0.05, "params": {"fraction": [0.0, 0.2]}},
            {"label": "feedback alignment", "rule": "feedback_alignment", "lr": 0.05},
            {"label": "FA + 20% flips", "rule": "curl", "lr": 0.05, "params": {"fraction": 0.2, "feedback": "random"}},
        ],
    },
    # the same rules on each device profile: how learning survives the substrate (bioplast substrates)
    "substrate": {
        "name": "substrate", "tasks": ["digits", "mnist5k"], "backends": ["numba"], "seeds": [0, 1, 2], "epochs": 5,
        "hidden": [128],
        "runs": [
            {"label": f"{rule} @ {sub}", "rule": rule, "lr": lr, "substrate": sub}
            for rule, lr in (("backprop", 0.05), ("delta", 0.05))
            for sub in ("ideal", "loihi2-like", "brainscales2-like", "pcm-crossbar", "pcm-differential",
                        "reram-crossbar")
        ],
    },
    # robustness: accuracy vs weight bits (the fixed-point preset: stochastic rounding on [-1, 1]) and
    # vs write noise (float weights) for the backprop baseline, node perturbation (zeroth-order) and an Oja
    # (Hebbian) readout; the report plots each sweep
    "substrate-sweep": {
        "name": "substrate-sweep", "tasks": ["digits"], "backends": ["numba"], "seeds": [0, 1, 2], "epochs": 5,
        "hidden": [64],
        "runs": [
            *({"label": f"{name} @ {b} bits", "rule": rule, "lr": 0.05, "params": params,
               "substrate": "fixed-point", "substrate_params": {"bits": b}} for name, rule, params in SWEPT for b in (2, 3, 4, 6, 8, 12, 16)),
            *({"label": f"{name} @ write noise {n}", "rule": rule, "lr": 0.05, "params": params,
               "substrate": "ideal", "substrate_params": {"write_noise": n}}
              for name, rule, params in SWEPT for n in (0.0, 0.1, 0.3, 1.0, 3.0)),
        ],
    },
}


@dataclass(frozen=True)
class Job:
    """One run of a suite: a label, a seed, and the full training configuration."""

    suite: str
    label: str
    config: dict = field(hash=False)

    @property
    def run_id(self) -> str:
        """Stable name of the run's folder: readable prefix + hash of the whole configuration."""
        text = json.dumps(self.config, sort_keys=True, default=list)
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        safe = "".join(c if c.isalnum() else "-" for c in self.label).strip("-").lower()
        return f"{safe}-{self.config['task']}-{self.config['backend']}-s{self.config['seed']}-{digest}"


def load_suite(spec) -> dict:
    """A built-in suite by name, a TOML file by path, or a dict; validated."""
    if isinstance(spec, dict):
        suite = spec
    elif str(spec) in BUILTIN:
        suite = BUILTIN[str(spec)]
    else:
        path = Path(spec)
        if not path.exists():
            raise unknown_name("suite", str(spec), BUILTIN) if path.suffix != ".toml" else \
                DataError(f"suite file {str(path)!r} does not exist")
        import tomllib

        try:
            suite = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"suite file {str(path)!r} is not valid TOML: {exc}") from None
    validate_suite(suite)
    return suite


def validate_suite(suite) -> None:
    from ..backends import BACKENDS
    from ..data.datasets import TASKS
    from ..rules.registry import RULES
    from ..train import TrainConfig

    if not isinstance(suite, dict):
        raise ConfigError(f"a suite must be a table of settings, got {type(suite).__name__}")
    for key in suite:
        if key not in SUITE_KEYS:
            raise unknown_name("suite key", key, SUITE_KEYS)
    for key in ("tasks", "backends", "seeds", "runs"):
        if not isinstance(suite.get(key), list) or not suite[key]:
            raise ConfigError(f"suite {key!r} must be a non-empty list, got {suite.get(key)!r}")
    for t in suite["tasks"]:
        if t not in TASKS:
            raise unknown_name("task", t, TASKS)
    for b in suite["backends"]:
        if str(b).split(":")[0] not in BACKENDS:
            raise unknown_name("backend", b, BACKENDS)
    for s in suite["seeds"]:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ConfigError(f"seeds must be integers >= 0, got {s!r}")
    config_keys = {f.name for f in fields(TrainConfig)} - {"task", "backend", "seed", "rule_params", "device"}
    labels = set()
    for i, run in enumerate(suite["runs"]):
        if not isinstance(run, dict):
            raise ConfigError(f"runs[{i}] must be a table, got {run!r}")
        for key in run:
            if key not in config_keys | {"label", "params"}:
                raise unknown_name(f"key in runs[{i}]", key, sorted(config_keys | {"label", "params"}))
        if "rule" not in run:
            raise ConfigError(f"runs[{i}] needs a 'rule'")
        if run["rule"] not in RULES:
            raise unknown_name("rule", run["rule"], RULES)
        label = run.get("label", run["rule"])
        if label in labels:
            raise ConfigError(f"two runs are labelled {label!r}; labels name the rows of the results table")
        labels.add(label)
    for job in expand(suite):  # every configuration must validate before anything runs
        TrainConfig(**_train_kwargs(job.config)).validate()


def _train_kwargs(config: dict) -> dict:
    kw = dict(config)
    if "hidden" in kw:
        kw["hidden"] = tuple(kw["hidden"])
    return kw


def expand(suite: dict) -> list:
    """Every (run, task, backend, seed) as a :class:`Job`, in a stable order."""
    defaults = {k: suite[k] for k in RUN_DEFAULT_KEYS if k in suite}
    jobs = []
    for run in suite["runs"]:
        base = {**defaults, **{k: v for k, v in run.items() if k not in ("label", "params")},
                "rule_params": dict(run.get("params", {}))}
        for task in suite["tasks"]:
            for backend in suite["backends"]:
                for seed in suite["seeds"]:
                    jobs.append(Job(suite.get("name", "suite"), run.get("label", run["rule"]),
                                    {**base, "task": task, "backend": backend, "seed": seed}))
    return jobs
