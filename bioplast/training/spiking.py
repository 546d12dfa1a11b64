"""Train a spiking network on a classification task, with the records of :mod:`bioplast.training.rate`.

The second kind of benchmark job (``kind = "spiking"`` in a suite).  Models:

* ``diehl_cook``: unsupervised STDP with adaptive thresholds and lateral
  inhibition (:class:`~bioplast.models.diehl_cook.DiehlCook`, Diehl & Cook
  2015), one online pass over ``train_samples`` digits per epoch; after each
  epoch every neuron is labelled with its preferred class on those digits and
  the test digits are classified by vote (``train_acc``: the vote on the
  labelling digits).  ``loss`` is NaN: the rule minimises no loss.
* ``surrogate``: the gradient-trained baseline, BPTT with a surrogate spike
  derivative (:class:`~bioplast.models.surrogate.SurrogateSNN`, snnTorch),
  one epoch of Adam per record; ``loss`` is the epoch's mean cross-entropy.

Every epoch appends ``{epoch, loss, train_acc, test_acc, wall_time_s,
synops, energy_J, grad_alignment}`` (epoch 0: the untrained network).
``synops`` and ``energy_J`` count training only (the labelling and test
passes are evaluation): synaptic events, spikes, neuron updates and weight
writes priced with ``energy_profile``'s per-operation energies (default:
``loihi2-like`` for STDP, the digital ``ideal`` for BPTT, which a
neuromorphic chip does not run).  The network runs with float weights on
every profile: the profile prices operations, it does not change the
dynamics.  ``grad_alignment`` is NaN: neither model has a reference gradient
per step (STDP follows none; the surrogate gradient is not the true one).

Runs checkpoint after every epoch (:mod:`bioplast.training.checkpoints`) and resume bit
for bit.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass

import numpy as np

from bioplast import __version__
from bioplast.training import checkpoints as checkpoint
from bioplast.backends import get_backend
from bioplast.errors import ConfigError, DivergenceError, unknown_name
from bioplast.hardware import get_substrate
from bioplast.hardware.energy import OPS, total_energy
from bioplast.io import atomic_write_json, ensure_dir
from bioplast.training.rate import progress_bar, write_epoch
from bioplast.validate import positive, positive_int

SPIKING_MODELS = {"diehl_cook": "loihi2-like", "surrogate": "ideal"}  # model → default energy profile


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

    def validate(self) -> "SpikingConfig":
        if self.model not in SPIKING_MODELS:
            raise unknown_name("spiking model", self.model, SPIKING_MODELS)
        positive_int("epochs", self.epochs)
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
            raise ConfigError(f"substrate {self.substrate!r}: only the diehl_cook model trains on device "
                              f"weights; the {self.model!r} model runs on ideal weights")
        if self.model == "diehl_cook" and device.inference_only:
            raise ConfigError(f"substrate {device.name!r} is inference only: it has no on-chip plasticity")
        if self.model == "diehl_cook":
            get_backend(self.backend)  # unknown backends fail before anything runs
        elif self.backend != "torch":
            raise ConfigError(f"the surrogate model trains with snnTorch; backend must be 'torch', "
                              f"got {self.backend!r}")
        return self

    @property
    def device(self):
        """The substrate's :class:`~bioplast.hardware.DeviceProfile`, overrides applied."""
        return get_substrate(self.substrate, self.substrate_params)

    @property
    def profile(self) -> str:
        return self.energy_profile or SPIKING_MODELS[self.model]


class _DiehlCookRun:
    def __init__(self, cfg: SpikingConfig, data):
        from bioplast.models.diehl_cook import DiehlCook, DiehlCookConfig

        # 8×8 digits have 12× fewer pixels than MNIST: the incoming weight total scales with the input
        extra = {} if cfg.theta_plus is None else {"theta_plus": cfg.theta_plus}
        dc = DiehlCookConfig(n_neurons=cfg.n_neurons, weight_total=78.0 * data.n_features / 784, **extra)
        device = None if cfg.substrate == "ideal" and not cfg.substrate_params else cfg.device
        self.model = DiehlCook(data.n_features, dc, seed=cfg.seed, backend=cfg.backend, substrate=device)
        self.ops = dict.fromkeys(OPS, 0)

    def train_epoch(self, x, y, progress):
        log = self.model.train(x, progress=progress)
        self.ops = {k: self.ops[k] + int(v) for k, v in log.ops.items()}
        return math.nan

    def accuracies(self, x, y, x_test, y_test):
        m = self.model
        # evaluation inputs from their own streams: training sees the same spikes, evaluated or not
        counts = m.responses(x, seed=[m.seed, 1])
        m.assign_labels(counts, y)
        train = float(np.mean(m.predict(counts) == y))
        return train, float(np.mean(m.predict(m.responses(x_test, seed=[m.seed, 2])) == y_test))

    def state(self):
        return (self.model.state(), dict(self.ops))

    def set_state(self, state):
        self.model.set_state(state[0])
        self.ops = dict(state[1])

    def arrays(self):
        return {"W": self.model.weights, "theta": self.model.theta}


class _SurrogateRun:
    def __init__(self, cfg: SpikingConfig, data):
        from bioplast.models.surrogate import SurrogateSNN

        self.net = SurrogateSNN(data.n_features, data.n_classes, n_hidden=cfg.n_neurons, lr=cfg.lr,
                                seed=cfg.seed)

    @property
    def ops(self):
        return self.net.ops

    def train_epoch(self, x, y, progress):
        loss, _ = self.net.train_epoch(x, y)
        if not math.isfinite(loss):
            raise DivergenceError(f"the surrogate-gradient SNN diverged: mean loss {loss} in an epoch")
        return loss

    def accuracies(self, x, y, x_test, y_test):
        return float(np.mean(self.net.predict(x) == y)), float(np.mean(self.net.predict(x_test) == y_test))

    def state(self):
        return self.net.state()

    def set_state(self, state):
        self.net.set_state(state)

    def arrays(self):
        return {f"P{i}": p.detach().numpy() for i, p in enumerate(self.net.params)}


def train_spiking(cfg: SpikingConfig, out=None, progress=True, resume: bool = True) -> list:
    """Train and return the per-epoch records; with ``out``, write ``config.json``,
    ``metrics.csv``, ``metrics.json``, ``weights.npz`` and a checkpoint there atomically after
    every epoch, and resume from it (same configuration and bioplast version, else
    :class:`~bioplast.errors.DataError`)."""
    from bioplast.data import load_task

    cfg.validate()
    out = ensure_dir(out) if out is not None else None
    data = load_task(cfg.task, cfg.seed, cfg.data_dir)
    n = len(data.x_train) if cfg.train_samples is None else min(cfg.train_samples, len(data.x_train))
    x, y = data.x_train[:n].astype(np.float64), data.y_train[:n]
    x_test = data.x_test.astype(np.float64)
    run = (_DiehlCookRun if cfg.model == "diehl_cook" else _SurrogateRun)(cfg, data)
    costs = get_substrate(cfg.profile).energy
    config = asdict(cfg)
    identity = {"bioplast_version": __version__, "config": {k: v for k, v in config.items() if k != "epochs"}}
    if out is not None:
        atomic_write_json(out / "config.json", {"bioplast_version": __version__, "kind": "spiking", **config})
    records, wall, first = [], 0.0, 1
    if out is not None and resume and (out / "checkpoint.json").exists():
        arrays = get_backend("torch" if cfg.model == "surrogate" else "numpy")  # the state's array kind
        state, meta = checkpoint.load(out, run.state(), arrays, identity)
        run.set_state(state)
        records, wall, first = meta["records"], meta["wall_time_s"], meta["epoch"] + 1

    def record(epoch, loss):
        train_acc, test_acc = run.accuracies(x, y, x_test, data.y_test)
        records.append({"epoch": epoch, "loss": loss, "train_acc": train_acc, "test_acc": test_acc,
                        "wall_time_s": wall, "synops": run.ops["synops"], "energy_J": total_energy(run.ops, costs),
                        "grad_alignment": math.nan})
        if out is not None:
            write_epoch(out, records, run.arrays(), run.state(), {**identity, "epoch": epoch, "records": records,
                                                                   "wall_time_s": wall})

    if first == 1:
        record(0, math.nan)
    bar = progress_bar(cfg.epochs - first + 1, f"{cfg.model}/{cfg.task}", progress, unit="epoch")
    try:
        for epoch in range(first, cfg.epochs + 1):
            t0 = time.perf_counter()
            loss = run.train_epoch(x, y, progress is True)  # per-digit bars only in a terminal of their own
            wall += time.perf_counter() - t0
            record(epoch, loss)
            bar.update(1)
            bar.set_postfix(test_acc=f"{records[-1]['test_acc']:.3f}")
    finally:
        bar.close()
    return records

