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

Every key of a ``[[runs]]`` entry other than ``label``/``params``/``backends``
is a :class:`~bioplast.training.config.TrainConfig` field; top-level ``epochs``,
``hidden`` and ``batch_size`` are defaults for all runs, and a run's own
``backends`` list replaces the suite's.  A run with ``kind = "spiking"``
trains a spiking network instead (:func:`bioplast.training.train` with a
:class:`~bioplast.training.config.SpikingConfig`); its keys are that class's fields::

    [[runs]]
    label = "STDP (Diehl & Cook), 100 neurons"
    kind = "spiking"
    model = "diehl_cook"
    n_neurons = 100

A run with ``kind = "lab"`` runs a student–teacher experiment of the curl
lab (:mod:`bioplast.bench.lab`: ``experiment`` and its ``settings``); it makes
its own data, so it runs once per backend and seed, not per task, and a
suite of lab runs only needs no ``tasks``.

Unknown keys, rules, models, tasks and backends are
:class:`~bioplast.errors.ConfigError` naming the closest valid name, before
anything runs.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from bioplast.backends import BACKENDS
from bioplast.backends import REGISTRY as BACKEND_REGISTRY
from bioplast.bench.lab import EXPERIMENTS, LAB_TASK, LabConfig
from bioplast.data.datasets import REGISTRY as TASK_REGISTRY
from bioplast.errors import ConfigError, DataError, unknown_name
from bioplast.rules.registry import REGISTRY as RULE_REGISTRY
from bioplast.training import SPIKING_MODELS, SpikingConfig, TrainConfig

SUITE_KEYS = ("name", "tasks", "backends", "seeds", "epochs", "hidden", "batch_size", "runs")
RUN_DEFAULT_KEYS = ("epochs", "hidden", "batch_size")
KINDS = ("rate", "spiking", "lab")  # a run's job kind: a TrainConfig, a SpikingConfig, a bench.lab experiment
RUN_KEYS = ("label", "params", "backends", "kind")  # keys of a run that are not configuration fields

# the rules of the substrate sweeps: (series name, run settings)
SWEPT = (
    ("backprop", {"rule": "backprop", "lr": 0.05}),
    ("node perturbation", {"rule": "node_perturbation", "lr": 0.05, "params": {"probes": 4}}),
    ("Oja readout", {"rule": "oja", "lr": 0.05}),
    (
        "EP symmetric",
        {
            "rule": "eqprop",
            "optimizer": "adam",
            "lr": 0.002,
            "params": {"estimator": "symmetric", "cost": "cross_entropy"},
        },
    ),
    ("column E/I MLP (backprop)", {"rule": "backprop", "network": "ei_mlp", "lr": 0.05}),
    ("EG-Dale (backprop, EG)", {"rule": "backprop", "optimizer": "eg", "lr": 2.0}),
)

#: the reference row of the comparison suites: backprop with Adam, its learning rate chosen on a
#: validation split carved from the training set (benchmarks/baseline_lr.py; never the test split)
BASELINE = {"label": "backprop (Adam)", "rule": "backprop", "optimizer": "adam", "lr": 0.01}

STDP_SWEPT = "STDP (Diehl & Cook) N=100"
STDP_RUN = {"kind": "spiking", "model": "diehl_cook", "n_neurons": 100, "train_samples": 600, "epochs": 1}

BUILTIN: dict[str, dict[str, Any]] = {
    # the README's main job: the baseline and one rule of each family, < 5 minutes on 2 cores; every
    # rule's rate is the one a validation split prefers (benchmarks/rule_lr.py; the baseline's:
    # benchmarks/baseline_lr.py), the test split never looked at
    "quick": {
        "name": "quick",
        "tasks": ["digits", "mnist5k"],
        "backends": ["numba"],
        "seeds": [0, 1],
        "epochs": 3,
        "hidden": [128],
        "runs": [
            BASELINE,
            {
                "label": "EP symmetric",
                "rule": "eqprop",
                "optimizer": "adam",
                "lr": 0.006,
                "params": {"estimator": "symmetric", "cost": "cross_entropy"},
            },
            {"label": "EG-Dale (backprop, EG)", "rule": "backprop", "optimizer": "eg", "lr": 2.0},
            {"label": "DANN (backprop)", "rule": "backprop", "network": "dann", "lr": 0.0167},
            {"label": "Oja readout", "rule": "oja", "lr": 0.45},
            {"label": "curl 10% flipped", "rule": "curl", "lr": 0.15, "params": {"fraction": 0.1}},
        ],
    },
    # EP estimators in the reference configuration of Laborieux et al. (2021), beside backprop
    "eqprop": {
        "name": "eqprop",
        "tasks": ["mnist5k"],
        "backends": ["numba"],
        "seeds": [0, 1, 2],
        "epochs": 10,
        "hidden": [512],
        "batch_size": 50,
        "runs": [
            *(
                {
                    "label": f"EP {est}",
                    "rule": "eqprop",
                    "optimizer": "adam",
                    "lr": 5e-4,
                    "activation": "sigmoid4",
                    "params": {"estimator": est},
                }
                for est in ("one_sided", "random_sign", "symmetric")
            ),
            {
                "label": "EP holomorphic N=4",
                "rule": "holo_eqprop",
                "optimizer": "adam",
                "lr": 5e-4,
                "activation": "sigmoid4",
                "params": {"beta": 0.1, "points": 4},
            },
            {
                "label": "backprop",
                "rule": "backprop",
                "optimizer": "adam",
                "lr": 5e-4,
                "activation": "sigmoid4",
                "loss": "mse",
            },
        ],
    },
    # geometry and E/I architecture under Dale's law (benchmarks/dale.py has the analyses)
    "dale": {
        "name": "dale",
        "tasks": ["digits", "mnist5k"],
        "backends": ["numba"],
        "seeds": [0, 1, 2],
        "epochs": 10,
        "hidden": [256],
        "runs": [
            BASELINE,
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
        "name": "curl",
        "tasks": ["digits", "mnist5k"],
        "backends": ["numba"],
        "seeds": [0, 1, 2],
        "epochs": 5,
        "hidden": [128],
        "runs": [
            BASELINE,
            *(
                {"label": f"curl {int(100 * f)}% (all layers)", "rule": "curl", "lr": 0.05, "params": {"fraction": f}}
                for f in (0.05, 0.2, 0.5)
            ),
            {"label": "curl 20% hidden-layer flips", "rule": "curl", "lr": 0.05, "params": {"fraction": [0.2, 0.0]}},
            {"label": "curl 20% readout flips", "rule": "curl", "lr": 0.05, "params": {"fraction": [0.0, 0.2]}},
            {"label": "feedback alignment", "rule": "feedback_alignment", "lr": 0.05},
            {"label": "FA + 20% flips", "rule": "curl", "lr": 0.05, "params": {"fraction": 0.2, "feedback": "random"}},
        ],
    },
    # the same rules on each device profile: how learning survives the substrate (bioplast substrates)
    "substrate": {
        "name": "substrate",
        "tasks": ["digits", "mnist5k"],
        "backends": ["numba"],
        "seeds": [0, 1, 2],
        "epochs": 5,
        "hidden": [128],
        "runs": [
            {"label": f"{rule} @ {sub}", "rule": rule, "lr": lr, "substrate": sub}
            for rule, lr in (("backprop", 0.05), ("delta", 0.05))
            for sub in (
                "ideal",
                "loihi2-like",
                "brainscales2-like",
                "pcm-crossbar",
                "pcm-differential",
                "reram-crossbar",
            )
        ],
    },
    # unsupervised STDP (Diehl & Cook 2015, online passes) at three network sizes against the gradient-
    # trained spiking baseline (surrogate-gradient BPTT, snnTorch) and the rate backprop MLP of the same
    # width: accuracy, and accuracy vs energy (STDP priced on loihi2-like, BPTT and the MLP on digital
    # float32).  The speed comparison with Brian2 is benchmarks/diehl_cook.py
    "spiking": {
        "name": "spiking",
        "tasks": ["digits", "mnist5k"],
        "backends": ["numba"],
        "seeds": [0, 1, 2],
        "epochs": 1,
        "runs": [
            # test accuracy after each pass (an epoch is one pass over the training digits): the
            # learning curve beside the paper's 82.9 / 87.0 / 91.9 % on full MNIST
            *(
                {
                    "label": f"STDP (Diehl & Cook) N={n}",
                    "kind": "spiking",
                    "model": "diehl_cook",
                    "n_neurons": n,
                    "epochs": passes,
                }
                for n, passes in ((100, 3), (400, 3), (1600, 2))
            ),
            # the paper's homeostasis is tuned for 60,000 digits; with 4,000, a faster threshold rise
            # spreads the 400 neurons over the digits within one pass
            {
                "label": "STDP (Diehl & Cook) N=400, θ₊ 0.1 mV",
                "kind": "spiking",
                "model": "diehl_cook",
                "n_neurons": 400,
                "theta_plus": 1e-4,
            },
            {
                "label": "surrogate-gradient BPTT N=400",
                "kind": "spiking",
                "model": "surrogate",
                "n_neurons": 400,
                "backends": ["torch"],
                "epochs": 3,
            },
            {**BASELINE, "label": "backprop (Adam) MLP (rate) 400", "hidden": [400], "epochs": 3},
        ],
    },
    # the student–teacher studies of Ninou et al. (2025) as lab jobs: the phase diagram of the critical
    # flip fraction against c (theory and simulation), Lyapunov exponent and order parameter either side
    # of the threshold, and the saddle escape (the paper's protocol) with its linear control (benchmarks/curl_*.py
    # write the same studies as stand-alone reports)
    "curl-lab": {
        "name": "curl-lab",
        "backends": ["numba"],
        "seeds": [0],
        "runs": [
            {"label": "phase diagram", "kind": "lab", "experiment": "phase_diagram"},
            {"label": "chaos either side of the threshold", "kind": "lab", "experiment": "chaos"},
            {
                "label": "saddle escape, tanh",
                "kind": "lab",
                "experiment": "saddle_escape",
                "settings": {"values": [0.5, 2.0]},  # held norms: at r = 0.1 the student cannot reach the teacher
            },
            {
                "label": "saddle escape, linear control",
                "kind": "lab",
                "experiment": "saddle_escape",
                "settings": {
                    "protocol": {"activation": "identity", "n_train": 150, "hold_norms": False},
                    "values": [0.1, 2.0],
                },
            },
        ],
    },
    # robustness: accuracy vs weight bits (the fixed-point preset: stochastic rounding on [-1, 1]) and
    # vs write noise (float weights) for the backprop baseline, node perturbation (zeroth-order), an Oja
    # (Hebbian) readout, symmetric EP, a column-sign E/I network, EG-Dale (programmed one level off 0)
    # and an STDP network; the report plots each sweep
    "substrate-sweep": {
        "name": "substrate-sweep",
        "tasks": ["digits"],
        "backends": ["numba"],
        "seeds": [0, 1, 2],
        "epochs": 5,
        "hidden": [64],
        "runs": [
            *(
                {"label": f"{name} @ {b} bits", **run, "substrate": "fixed-point", "substrate_params": {"bits": b}}
                for name, run in SWEPT
                for b in (2, 3, 4, 6, 8, 12, 16)
            ),
            *(
                {
                    "label": f"{name} @ write noise {n}",
                    **run,
                    "substrate": "ideal",
                    "substrate_params": {"write_noise": n},
                }
                for name, run in SWEPT
                for n in (0.0, 0.1, 0.3, 1.0, 3.0)
            ),
            # STDP (Diehl & Cook, N = 100, 600 digits): its conductances on one-signed devices of [0, 1]
            # (fixed-point with the excitatory sign mode: every bit on magnitude), written once per digit
            *(
                {
                    "label": f"{STDP_SWEPT} @ {b} bits",
                    **STDP_RUN,
                    "substrate": "fixed-point",
                    "substrate_params": {"bits": b, "sign_mode": "excitatory"},
                }
                for b in (2, 3, 4, 6, 8, 12, 16)
            ),
            *(
                {
                    "label": f"{STDP_SWEPT} @ write noise {n}",
                    **STDP_RUN,
                    "substrate": "ideal",
                    "substrate_params": {"write_noise": n, "bounds": "hard", "w_min": 0.0, "w_max": 1.0},
                }
                for n in (0.0, 0.1, 0.3, 1.0, 3.0)
            ),
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
        if path.is_dir():
            raise DataError(f"suite {str(path)!r} is a folder; expected a .toml file or a built-in suite's name")
        if not path.exists():
            raise (
                unknown_name("suite", str(spec), BUILTIN)
                if path.suffix != ".toml"
                else DataError(f"suite file {str(path)!r} does not exist")
            )
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # the same parser, as a package, before Python 3.11
            import tomli as tomllib

        try:
            suite = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"suite file {str(path)!r} is not valid TOML: {exc}") from None
    validate_suite(suite)
    return suite


#: keys whose values a TOML file could give with the wrong type, and the type each needs
_TYPED = {
    "name": (str, "a string"),
    "label": (str, "a string"),
    "params": (dict, "a table, e.g. { beta = 0.1 }"),
    "settings": (dict, "a table of the experiment's settings"),
    "substrate_params": (dict, "a table, e.g. { bits = 4 }"),
    "hidden": (list, "a list of layer widths, e.g. [128] or [256, 128]"),
}


def _check_types(table: dict, where: str) -> None:
    for key, (kind, what) in _TYPED.items():
        if key in table and not isinstance(table[key], kind):
            raise ConfigError(f"{where} {key!r} must be {what}, got {table[key]!r}")
    if isinstance(table.get("hidden"), list):
        for h in table["hidden"]:
            if isinstance(h, bool) or not isinstance(h, int):
                raise ConfigError(f"{where} 'hidden' holds layer widths (integers), got {h!r}")


def validate_suite(suite) -> None:
    if not isinstance(suite, dict):
        raise ConfigError(f"a suite must be a table of settings, got {type(suite).__name__}")
    for key in suite:
        if key not in SUITE_KEYS:
            raise unknown_name("suite key", key, SUITE_KEYS)
    _check_types(suite, "suite")
    lab_only = (
        isinstance(suite.get("runs"), list)
        and bool(suite["runs"])
        and all(isinstance(r, dict) and r.get("kind") == "lab" for r in suite["runs"])
    )
    for key in (
        ("backends", "seeds", "runs") if lab_only and "tasks" not in suite else ("tasks", "backends", "seeds", "runs")
    ):
        if not isinstance(suite.get(key), list) or not suite[key]:
            raise ConfigError(f"suite {key!r} must be a non-empty list, got {suite.get(key)!r}")
    for t in suite.get("tasks", []):
        if not isinstance(t, str):
            raise ConfigError(f"suite tasks are names, got {t!r}")
        TASK_REGISTRY.get(t)  # built-in, plugin or module:loader; unknown names fail here
    _check_backends(suite["backends"], "suite 'backends'")
    for s in suite["seeds"]:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ConfigError(f"seeds must be integers >= 0, got {s!r}")
    labels = set()
    for i, run in enumerate(suite["runs"]):
        if not isinstance(run, dict):
            raise ConfigError(f"runs[{i}] must be a table, got {run!r}")
        _check_types(run, f"runs[{i}]")
        kind = run.get("kind", "rate")
        if kind not in KINDS:
            raise unknown_name(f"kind in runs[{i}]", kind, KINDS)
        allowed = sorted(_config_keys(kind) | set(RUN_KEYS) - ({"params"} if kind != "rate" else set()))
        for key in run:
            if key not in allowed:
                raise unknown_name(f"key in runs[{i}]", key, allowed)
        if "backends" in run:
            if not isinstance(run["backends"], list) or not run["backends"]:
                raise ConfigError(f"runs[{i}] 'backends' must be a non-empty list, got {run['backends']!r}")
            _check_backends(run["backends"], f"runs[{i}] 'backends'")
        _check_method(run, i, kind)
        label = _label(run)
        if label in labels:
            raise ConfigError(f"two runs are labelled {label!r}; labels name the rows of the results table")
        labels.add(label)
    for job in expand(suite):  # every configuration must validate before anything runs
        try:
            make_config(job.config).validate()
        except (TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, ConfigError | DataError):
                raise
            raise ConfigError(f"run {job.label!r}: a setting has the wrong type: {exc}") from None


def _check_backends(backends, where: str) -> None:
    for b in backends:
        if not isinstance(b, str):
            raise ConfigError(f"{where}: a backend is a name, got {b!r}")
        if b.split(":")[0] not in BACKENDS:
            BACKEND_REGISTRY.get(b)  # a plugin or a module:Backend reference; unknown names fail here


def _check_method(run: dict, i: int, kind: str) -> None:
    """The rule of a rate run, the model of a spiking run, the experiment of a lab run: present and known."""
    key, known, what = {
        "spiking": ("model", SPIKING_MODELS, "spiking model"),
        "lab": ("experiment", EXPERIMENTS, "lab experiment"),
    }.get(kind, ("rule", None, "rule"))
    if key not in run:
        raise ConfigError(f"runs[{i}] needs a {key!r}")
    if not isinstance(run[key], str):
        raise ConfigError(f"runs[{i}] {key!r} must be a name, got {run[key]!r}")
    if known is None:
        RULE_REGISTRY.get(run[key])  # built-in, plugin or module:factory; unknown names fail here
    elif run[key] not in known:
        raise unknown_name(what, run[key], known)


def _label(run: dict) -> str:
    return str(run.get("label", run.get("rule", run.get("model", run.get("experiment")))))


def _config_keys(kind: str) -> set:
    """Configuration fields a run of ``kind`` may set (task, backend and seed come from the suite)."""
    cls, own = {"spiking": (SpikingConfig, set()), "lab": (LabConfig, set())}.get(
        kind, (TrainConfig, {"rule_params", "device"})
    )
    return {f.name for f in fields(cls)} - {"task", "backend", "seed"} - own


def make_config(config: dict):
    """The :class:`~bioplast.training.config.TrainConfig`, :class:`~bioplast.training.config.SpikingConfig`
    or :class:`~bioplast.bench.lab.LabConfig` of a job."""
    kw = {k: v for k, v in config.items() if k != "kind"}
    if config.get("kind") == "spiking":
        return SpikingConfig(**kw)
    if config.get("kind") == "lab":
        return LabConfig(**kw)
    if "hidden" in kw:
        kw["hidden"] = tuple(kw["hidden"])
    return TrainConfig(**kw)


def expand(suite: dict) -> list:
    """Every (run, task, backend, seed) as a :class:`Job`, in a stable order."""
    jobs = []
    for run in suite["runs"]:
        kind = run.get("kind", "rate")
        keys = _config_keys(kind)
        defaults = {k: suite[k] for k in RUN_DEFAULT_KEYS if k in suite and k in keys}
        base = {**defaults, **{k: v for k, v in run.items() if k not in RUN_KEYS}}
        if kind != "rate":  # rate runs carry no kind, so their run ids stay what they were
            base["kind"] = kind
        else:
            base["rule_params"] = dict(run.get("params", {}))
        for task in [LAB_TASK] if kind == "lab" else suite["tasks"]:
            for backend in run.get("backends", suite["backends"]):
                for seed in suite["seeds"]:
                    jobs.append(
                        Job(
                            suite.get("name", "suite"),
                            _label(run),
                            {**base, "task": task, "backend": backend, "seed": seed},
                        )
                    )
    return jobs
