"""What a training run is: a rate-network or a spiking-network configuration, validated as data.

Both configurations name a model kind (:mod:`bioplast.models`) and build it through the model
registry; the one training loop (:mod:`bioplast.training.loop`) runs either.

* :class:`TrainConfig` — a rule on a rate network.  The model kind follows from the rule's
  declared spec and the network (:data:`ROLE_KINDS`): a two-phase (contrast) rule trains an EP
  network, a zeroth-order rule a perturbed MLP, a rule of role ``network`` an error-driven MLP,
  ``readout`` a delta-rule readout, ``feature`` a clamped Hebbian readout; ``network = "dann"`` or
  ``"ei_mlp"`` is a Dale network trained by backprop.
* :class:`SpikingConfig` — ``diehl_cook`` (unsupervised STDP with adaptive thresholds and lateral
  inhibition, Diehl & Cook 2015) or ``surrogate`` (BPTT with a surrogate spike derivative).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from bioplast.backends import Backend, get_backend
from bioplast.core import Rule
from bioplast.data import Dataset
from bioplast.dynamics.activations import activation as _activation
from bioplast.dynamics.feedforward import LOSSES
from bioplast.errors import ConfigError, unknown_name
from bioplast.geometry import OPTIMIZERS
from bioplast.hardware.chip import Chip
from bioplast.hardware.profile import DeviceProfile
from bioplast.hardware.substrates import get_substrate
from bioplast.models import build_model
from bioplast.models.dale import NETWORKS
from bioplast.resources import check_fits, training_bytes
from bioplast.rules.registry import get_rule
from bioplast.validate import in_range, positive, positive_int

# the rate model kind of a one-phase rule, by its declared role
ROLE_KINDS = {"network": "error_driven", "readout": "delta_readout", "feature": "clamped_readout"}
SPIKING_MODELS = {"diehl_cook": "loihi2-like", "surrogate": "ideal"}  # model → default energy profile


def named(value, kind: str):
    """A configuration value as it is recorded: its name, for objects given from Python (a Rule, a
    Dataset, a Backend) their name with their kind."""
    if isinstance(value, Rule):
        return f"<{kind} {value.spec.name}>"
    if isinstance(value, Dataset):
        return f"<{kind} {value.name}>"
    if isinstance(value, Backend):
        return f"<{kind} {value.name}>"
    if isinstance(value, DeviceProfile):
        return f"<{kind} {value.name}>"
    return value


def objects_identity(cfg) -> dict:
    """What identifies objects given from Python, for checkpoints: a rule's spec, a dataset's
    fingerprint, a backend's class."""
    out: dict[str, Any] = {}
    if isinstance(cfg.rule_value, Rule):
        spec = cfg.rule_value.spec
        out["rule"] = {
            "name": spec.name,
            "family": spec.family,
            "params": json.loads(json.dumps(spec.params, default=str)),
        }
    if isinstance(cfg.task, Dataset):
        out["task"] = cfg.task.fingerprint()
    if isinstance(cfg.backend, Backend):
        out["backend"] = f"{type(cfg.backend).__module__}.{type(cfg.backend).__name__}/{cfg.backend.dtype_name}"
    return out


@dataclass
class TrainConfig:
    """A rule on a rate network.  ``rule``, ``task`` and ``backend`` are names (built-in, plugin or
    ``package.module:attribute``) or, from Python, a :class:`~bioplast.core.Rule`, a
    :class:`~bioplast.data.Dataset` and a backend object; ``model`` names a model kind to use
    instead of the one the rule's spec implies (a plugin's, say)."""

    rule: str
    task: str = "digits"
    backend: str = "numpy"
    device: str = "cpu"
    dtype: str = "float32"
    epochs: int = 5
    seed: int = 0
    batch_size: int = 32
    lr: float = 0.05
    hidden: tuple = (128,)
    activation: str | None = None  # None: tanh for EP, relu otherwise
    loss: str = "cross_entropy"
    optimizer: str = "sgd"  # sgd (additive), adam or eg (exponentiated: keeps every weight's sign)
    network: str = "mlp"  # mlp, dann (Cornford et al. 2021) or ei_mlp (column signs); the latter two: backprop
    inhibitory_fraction: float = 0.1  # of every presynaptic population (ei_mlp) / of hidden units (dann)
    sign_frozen: bool = False  # project every step back onto the initial signs (sign-frozen baseline)
    data_dir: str | None = None
    rule_params: dict = field(default_factory=dict)
    substrate: str = "ideal"  # device profile every weight update goes through (bioplast substrates)
    substrate_params: dict = field(default_factory=dict)  # overrides of the profile's fields, e.g. {"bits": 4}
    model: str | None = None  # a model kind in place of the one the rule implies

    @property
    def rule_value(self):
        return self.rule

    def validate(self) -> TrainConfig:
        positive_int("epochs", self.epochs, maximum=1_000_000)
        positive_int("batch_size", self.batch_size)
        positive_int("seed", self.seed, allow_zero=True)
        positive("lr", self.lr)
        self.hidden = tuple(positive_int("hidden size", h) for h in self.hidden)
        if self.activation is not None:
            _activation(self.activation)
        if self.loss not in LOSSES:
            raise unknown_name("loss", self.loss, LOSSES)
        device = get_substrate(self.substrate, self.substrate_params)  # unknown names and bad values fail here
        if self.optimizer not in OPTIMIZERS:
            raise unknown_name("optimizer", self.optimizer, OPTIMIZERS)
        if self.network not in NETWORKS:
            raise unknown_name("network", self.network, NETWORKS)
        in_range("inhibitory_fraction", self.inhibitory_fraction, 0.0, 1.0)
        if device.state_bits is not None and not device.inference_only:  # inference-only: refused by the chain
            raise ConfigError(
                f"substrate {device.name!r} has state_bits = {device.state_bits}: a fixed-point neuron "
                "state is modelled for spiking networks (bioplast.deploy.on_substrate), not rate "
                "networks; pick a substrate without it (from Python: substrate_params="
                "{'state_bits': None})"
            )
        _ = self.kind  # an unknown rule, or one of a role no rate model trains, fails here
        return self

    def make_rule(self):
        """The configured rule; a weight-perturbation rule draws its probes from the run's chip stream
        ``"weight probes"`` unless its parameters name a seed."""
        rule = get_rule(self.rule, **self.rule_params)
        if isinstance(self.rule, Rule):
            return rule
        if rule.spec.params.get("probe") == "weight" and "seed" not in self.rule_params:
            rule = get_rule(self.rule, **self.rule_params, seed=self.chip().stream("weight probes"))
        return rule

    def chip(self) -> Chip:
        """The run's chip: the substrate with its overrides, under the run's seed."""
        return Chip(get_substrate(self.substrate, self.substrate_params), self.seed)

    @property
    def kind(self) -> str:
        """The model kind that trains this rule on this network."""
        if self.model is not None:
            return self.model
        if self.network != "mlp":
            if self.rule != "backprop":
                raise ConfigError(
                    f"network {self.network!r} is trained by the backprop baseline; got rule "
                    f"{self.rule!r} (use --network mlp with other rules)"
                )
            return "dale"
        spec = get_rule(self.rule, **self.rule_params).spec
        if spec.contrast:
            return "ep"
        if spec.params.get("probe") is not None:
            return "zeroth_order"
        if spec.role not in ROLE_KINDS:
            raise ConfigError(
                f"rule {self.rule!r} has role {spec.role!r}, which `train` cannot wire into a "
                f"classifier; roles it can: {', '.join(ROLE_KINDS)} (see the lateral rules in "
                "examples/decorrelation.py, spiking rules in examples/spiking_stdp.py and "
                "bioplast.dynamics.spiking)"
            )
        return ROLE_KINDS[spec.role]

    @property
    def energy(self):
        return get_substrate(self.substrate, self.substrate_params).energy

    def label(self) -> str:
        return f"{named(self.rule, 'rule')}/{named(self.task, 'task')}/{named(self.backend, 'backend')}"

    def backend_instance(self):
        return get_backend(self.backend, device=self.device, dtype=self.dtype)

    def as_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        return {
            **d,
            "rule": named(self.rule, "rule"),
            "task": named(self.task, "task"),
            "backend": named(self.backend, "backend"),
            "hidden": list(self.hidden),
            **({"objects": objects_identity(self)} if objects_identity(self) else {}),
        }

    def describe(self, model) -> dict:
        """What ``config.json`` records beyond the configuration: the layer sizes and the rule's spec."""
        rule = getattr(model, "rule", None)
        spec = rule.spec if rule is not None else get_rule(self.rule, **self.rule_params).spec
        return {
            "sizes": model.sizes,
            "rule_spec": json.loads(json.dumps({**asdict(spec), "reads": sorted(spec.reads)}, default=str)),
        }

    def check_resources(self, data) -> None:
        sizes = [data.n_features, *self.hidden, data.n_classes]
        check_fits(
            training_bytes(sizes, max(self.batch_size, 1000), np.dtype(self.dtype).itemsize),
            f"a {'-'.join(map(str, sizes))} network with batch {self.batch_size} ({self.dtype})",
        )


@dataclass
class SpikingConfig:
    model: str
    task: str = "digits"
    backend: str = "numba"
    epochs: int = 1
    seed: int = 0
    n_neurons: int = 100
    train_samples: int | None = None  # per epoch (None: the whole training split)
    energy_profile: str | None = None  # None: the model's default (SPIKING_MODELS)
    lr: float = 2e-3  # Adam's step (surrogate only; STDP has its own rates)
    theta_plus: float | None = None  # Diehl & Cook's threshold increment per spike, volts (None: the paper's)
    substrate: str = "ideal"  # the devices holding Diehl & Cook's input weights (bioplast substrates)
    substrate_params: dict | None = None  # overrides of the substrate's fields ({"bits": 4})
    data_dir: str | None = None

    def validate(self) -> SpikingConfig:
        if self.model not in SPIKING_MODELS:
            raise unknown_name("spiking model", self.model, SPIKING_MODELS)
        positive_int("epochs", self.epochs, maximum=1_000_000)
        positive_int("seed", self.seed, allow_zero=True)
        positive_int("n_neurons", self.n_neurons)
        positive("lr", self.lr)
        if self.theta_plus is not None:
            positive("theta_plus", self.theta_plus)
            if self.model != "diehl_cook":
                raise ConfigError(f"theta_plus is a parameter of the diehl_cook model, not of {self.model!r}")
        if self.train_samples is not None:
            positive_int("train_samples", self.train_samples)
        get_substrate(self.profile)
        device = self.device
        if self.model != "diehl_cook" and (self.substrate != "ideal" or self.substrate_params):
            raise ConfigError(
                f"substrate {self.substrate!r}: only the diehl_cook model trains on device "
                f"weights; the {self.model!r} model runs on ideal weights"
            )
        if self.model == "diehl_cook" and device.inference_only:
            raise ConfigError(f"substrate {device.name!r} is inference only: it has no on-chip plasticity")
        if self.model == "diehl_cook":
            get_backend(self.backend)  # unknown backends fail before anything runs
        elif self.backend != "torch":
            raise ConfigError(
                f"the surrogate model trains with snnTorch; backend must be 'torch', got {self.backend!r}"
            )
        return self

    @property
    def kind(self) -> str:
        return self.model

    @property
    def device(self):
        """The substrate's :class:`~bioplast.hardware.profile.DeviceProfile`, overrides applied."""
        return get_substrate(self.substrate, self.substrate_params)

    @property
    def profile(self) -> str:
        return self.energy_profile or SPIKING_MODELS[self.model]

    @property
    def energy(self):
        """Training is priced with ``energy_profile``'s per-operation energies (default: ``loihi2-like``
        for STDP, the digital ``ideal`` for BPTT, which a neuromorphic chip does not run); the network
        runs with float weights on every profile: it prices operations, it does not change the dynamics."""
        return get_substrate(self.profile).energy

    @property
    def rule_value(self):
        return None

    def label(self) -> str:
        return f"{self.model}/{named(self.task, 'task')}"

    def backend_instance(self):
        return get_backend(self.backend)

    def as_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        return {
            **d,
            "task": named(self.task, "task"),
            "backend": named(self.backend, "backend"),
            **({"objects": objects_identity(self)} if objects_identity(self) else {}),
        }

    def describe(self, model) -> dict:
        return {"kind": "spiking"}

    def check_resources(self, data) -> None:
        return None


class Shapes:
    """The two numbers a model builder reads of a dataset (for building a model without its data)."""

    def __init__(self, n_features: int, n_classes: int):
        self.n_features, self.n_classes = int(n_features), int(n_classes)


def model_for(k, cfg, n_features: int, n_classes: int):
    """The model ``cfg`` trains, built on backend ``k`` for ``n_features`` inputs and ``n_classes``
    classes, untrained (no data is loaded)."""
    cfg.validate()
    return build_model(cfg.kind, cfg, k, Shapes(n_features, n_classes))
