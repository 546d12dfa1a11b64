"""Train one rule on one classification task: the engine behind ``bioplast train``.

How a rule is wired into a network depends on its role (``RuleSpec.role``):

* ``network`` (backprop): an MLP ``[D, *hidden, C]``; every layer's update
  is ``plasticity(rule, optimiser)`` fed by the rule's error signals.
* ``feature`` (hebb, oja, bcm): supervised Hebbian learning of a readout
  ``W[C, D]`` with the postsynaptic activity clamped to the one-hot target
  (teacher forcing).  Row ``c`` then learns a template of class ``c``
  (Oja: ``W_c → ⟨x | c⟩``, the class mean); prediction is ``argmax W x``.
  (Used unsupervised on a hidden layer, single-unit Oja makes every unit
  learn the same principal component and plain Hebb grows without bound:
  that is the rules' theory, tested in ``tests/rules``, not a useful
  classifier.)
* ``readout`` (delta): one softmax layer on the raw input.
* two-phase ``network`` rules (``eqprop``, ``holo_eqprop``, ``gen_eqprop``):
  :class:`~bioplast.models.ep.EPModel` — a layered network ``[D, *hidden, C]``
  (PyTorch-default init, as in the published EP code) relaxes to its free
  fixed point, is nudged towards the one-hot target (``mse`` on the top
  layer, or ``cross_entropy`` through a softmax readout), and every layer
  learns from its :class:`~bioplast.core.Contrast`.  Prediction is the free
  phase's output; ``loss`` is the cost at the free state.  Default
  activation: tanh.

Every parameter moves through the optimiser transform ``cfg.optimizer``
(``sgd`` = :func:`~bioplast.geometry.additive`, or ``adam``) with ``cfg.lr``.

Each epoch appends a record ``{epoch, loss, train_acc, test_acc,
wall_time_s, synops, energy_J, grad_alignment}`` (epoch 0 is the untrained
network).  ``synops`` counts synaptic multiply-accumulates spent on
training, cumulatively: ``B·S`` per layer per batch for the forward drive,
``B·S`` for the weight update and, for backprop, ``B·S`` per layer above
the first for the backward pass (``S`` = synapses in the layer).
``energy_J`` prices those operations, the neuron updates and the weight
writes (:func:`count_operations`) with the substrate's per-operation
energies (NaN where the profile has none).  ``grad_alignment`` is the
cosine between the rule's update direction and backprop's ``−∇L`` on a
fixed batch of :data:`ALIGNMENT_SAMPLES` training samples, at the record's
weights (NaN for clamped Hebbian readouts; EP: against the autograd oracle).
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from bioplast import __version__
from bioplast.training import checkpoints as checkpoint
from bioplast.backends import get_backend
from bioplast.core import Local, chain_init, chain_update, plasticity
from bioplast.data import load_task, one_hot
from bioplast.dynamics.activations import activation as _activation
from bioplast.dynamics.feedforward import LOSSES, MLPParams, forward, init_mlp
from bioplast.dynamics.perturbation import (PerturbationState, alignment_with_backprop, node_perturbation_signals,
                                   weight_perturbation_signals)
from bioplast.errors import ConfigError, DataError, DivergenceError, unknown_name
from bioplast.models.dale import NETWORKS, DaleModel
from bioplast.models.ep import EPModel
from bioplast.hardware.energy import OPS, total_energy
from bioplast.hardware.physics import mismatched, neuron_mismatch
from bioplast.hardware import get_substrate, place, read_noise, read_scale, substrates
from bioplast.geometry import OPTIMIZERS, bias_optimizer, optimizer, sign_frozen
from bioplast.analysis.gradcheck import cosine
from bioplast.io import atomic_save_npz, atomic_write_csv, atomic_write_json, ensure_dir
from bioplast.resources import check_fits, training_bytes
from bioplast.rules import get_rule
from bioplast.dynamics.feedforward import backprop_errors
from bioplast.rules.perturbation import weight_probe
from bioplast.validate import in_range, positive, positive_int

RECORD_COLUMNS = ["epoch", "loss", "train_acc", "test_acc", "wall_time_s", "synops", "energy_J", "grad_alignment"]
ALIGNMENT_SAMPLES = 128  # training samples of the fixed batch on which alignment with backprop is measured


@dataclass
class TrainConfig:
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

    def validate(self) -> "TrainConfig":
        positive_int("epochs", self.epochs)
        positive_int("batch_size", self.batch_size)
        positive_int("seed", self.seed, allow_zero=True)
        positive("lr", self.lr)
        self.hidden = tuple(positive_int("hidden size", h) for h in self.hidden)
        if self.activation is not None:
            _activation(self.activation)
        if self.loss not in LOSSES:
            raise unknown_name("loss", self.loss, LOSSES)
        get_substrate(self.substrate, self.substrate_params)  # unknown names and bad values fail here
        if self.optimizer not in OPTIMIZERS:
            raise unknown_name("optimizer", self.optimizer, OPTIMIZERS)
        if self.network not in NETWORKS:
            raise unknown_name("network", self.network, NETWORKS)
        in_range("inhibitory_fraction", self.inhibitory_fraction, 0.0, 1.0)
        return self


class _Model:
    """Weights plus the per-layer plasticity for a one-phase rule role."""

    def __init__(self, k, cfg: TrainConfig, rule, sizes):
        self.k, self.cfg, self.rule = k, cfg, rule
        self.role, self.sizes = rule.spec.role, sizes
        self.activation = cfg.activation or "relu"
        opt = (optimizer(cfg.optimizer, cfg.lr),) + ((sign_frozen(),) if cfg.sign_frozen else ())
        device = get_substrate(cfg.substrate, cfg.substrate_params)
        params = init_mlp(k, sizes, cfg.seed, scheme="glorot")
        # each layer on its own devices (own variability and noise streams); under EG no weight may be
        # written as exactly 0, where a multiplicative step could never move it
        placed = [place(k, device, w, cfg.seed * 1000 + i, keep_sign=cfg.optimizer == "eg")
                  for i, w in enumerate(params.weights)]
        self.plastic = [plasticity(rule.at_layer(i), *opt, *transforms) for i, (_, transforms) in enumerate(placed)]
        self.bias_chain = (bias_optimizer(cfg.optimizer, cfg.lr),)  # biases live in the neurons, not on devices
        self.params = params._replace(weights=[w for w, _ in placed])
        self.states = [p.init(k, w) for p, w in zip(self.plastic, self.params.weights)]
        # feedback alignment: fixed random matrices, drawn like the weights but from their own stream
        self.feedback = (init_mlp(k, sizes, cfg.seed + 104729, scheme="glorot").weights
                         if rule.spec.params.get("feedback") == "random" else None)
        self.bias_states = [chain_init(k, self.bias_chain, b) for b in self.params.biases]
        # every forward pass is a read of the device: noisy where the profile says so
        self.device, self.reads = device, 0
        # the chip's neurons: fixed-pattern gains and offsets (None where they match)
        self.mismatch = neuron_mismatch(device, sizes[1:], cfg.seed * 1000 + 577)
        self.probe = rule.spec.params.get("probe")  # zeroth-order rules: "weight" or "node"
        self.learner = PerturbationState(0, 0.0)
        if self.probe is not None and rule.spec.params["noise"] == "device" and read_scale(device) == 0:
            noisy = [n for n, p in substrates().items() if p.read_noise > 0]
            raise ConfigError(f"rule {cfg.rule!r} with noise='device' uses the substrate's read noise as its probe, "
                              f"but substrate {cfg.substrate!r} reads exactly (read_noise = 0); substrates "
                              f"with read noise: {', '.join(noisy) or 'none installed'}")
        synapses = [a * b for a, b in zip(sizes[:-1], sizes[1:])]
        self.plastic_synapses = sum(synapses)
        if self.probe is not None:  # forward passes only: one per trial, plus the update
            passes = _trial_passes(rule.spec.params)
            self.synops_per_sample = passes * sum(synapses) + sum(synapses)
            self.neuron_updates_per_sample = passes * sum(sizes[1:])
        else:
            backward = sum(synapses[1:]) if self.role == "network" else 0
            self.synops_per_sample = 2 * sum(synapses) + backward
            # the backward pass: one error unit per hidden neuron
            self.neuron_updates_per_sample = sum(sizes[1:]) + (sum(sizes[1:-1]) if self.role == "network" else 0)

    def _next_read(self):
        """The read noise of the next forward pass (``None`` on an exact substrate)."""
        self.reads += 1
        return read_noise(self.k, self.device, self.cfg.seed * 1000 + 997, self.reads)

    def chip(self) -> MLPParams:
        """The network the chip computes: the weights on the devices through its mismatched neurons."""
        return mismatched(self.k, self.params, self.mismatch)

    def predict(self, x):
        _, out = forward(self.k, self.chip(), x, self.activation, self._next_read())
        return out

    def _trials(self, x, target):
        """One step of zeroth-order trials (:mod:`bioplast.dynamics.perturbation`)."""
        k, cfg, p = self.k, self.cfg, self.rule.spec.params
        if self.probe == "weight":
            probes = [weight_probe(k, s.rule, tuple(w.shape), p["probes"])
                      for s, w in zip(self.states, self.params.weights)]
            rng = np.random.default_rng([cfg.seed, self.learner.step, 17])
            bias_probes = [k.asarray(rng.standard_normal((p["probes"], int(b.shape[0])))) for b in self.params.biases]
            if self.mismatch is not None:  # the chip computes g ⊙ (W + σξ): its probes are g ⊙ ξ
                probes = [xi * k.asarray(g[None, :, None]) for xi, (g, _) in zip(probes, self.mismatch)]
                bias_probes = [z * k.asarray(g[None, :]) for z, (g, _) in zip(bias_probes, self.mismatch)]
            return weight_perturbation_signals(k, self.chip(), x, target, self.activation, cfg.loss, probes,
                                               bias_probes, p["sigma"], p["estimator"], self.learner,
                                               self._next_read)
        return node_perturbation_signals(k, self.chip(), x, target, self.activation, cfg.loss, p["sigma"],
                                         p["probes"], p["estimator"], p["noise"], cfg.seed + 15485863,
                                         self.learner, self._next_read, read_scale(self.device))

    def _signals(self, x, target, read):
        """``(signals, bias directions, loss)`` of a one-phase rule on one batch; ``read`` is the read
        noise of the forward pass (``None``: exact)."""
        k, cfg = self.k, self.cfg
        if self.role == "network":  # in the loop: the errors come from the chip's own activity
            inputs, errors, loss = backprop_errors(k, self.chip(), x, target, self.activation, cfg.loss,
                                                   self.feedback, read)
            # backprop reads pre and mod only; biases follow the same error
            return ([Local(pre=h, post=e, mod=e) for h, e in zip(inputs, errors)],
                    [k.batch_mean(e) for e in errors], loss)
        inputs, out = forward(k, self.chip(), x, self.activation, read)
        probs = k.to_numpy(k.softmax(out))
        loss = float(-np.mean(np.log(np.clip((probs * k.to_numpy(target)).sum(1), 1e-12, None))))
        if self.role == "feature":  # clamped: the rule sees the target as postsynaptic activity
            return [Local(pre=inputs[0], post=target)], [None], loss
        error = target - k.softmax(out)
        return [Local(pre=inputs[0], post=out, mod=error)], [k.batch_mean(error)], loss

    def gradient_alignment(self, x, target):
        """Cosine between the rule's update direction (before optimiser and device) and backprop's
        ``−∇L`` on ``(x, target)``, the weights of every layer concatenated, read exactly; ``None``
        for clamped Hebbian readouts, which follow no loss's gradient.  Zeroth-order rules: one set
        of probes (:func:`~bioplast.dynamics.perturbation.alignment_with_backprop`, on the device's
        read noise)."""
        k, cfg = self.k, self.cfg
        if self.role == "feature":
            return None
        x, target = k.asarray(x), k.asarray(target)
        if self.probe is not None:
            return float(alignment_with_backprop(k, self.chip(), x, target, self.rule, self.activation, cfg.loss,
                                                 steps=1, device=self.device, seed=cfg.seed + 31)[0])
        loss = cfg.loss if self.role == "network" else "cross_entropy"  # the readout's softmax cost
        inputs, errors, _ = backprop_errors(k, self.chip(), x, target, self.activation, loss)
        truth = [k.to_numpy(k.outer_mean(e, h)) for e, h in zip(errors, inputs)]
        signals, _, _ = self._signals(x, target, None)
        est = [k.to_numpy(self.rule.at_layer(i).update(k, sig, st.rule, w)[0])
               for i, (sig, st, w) in enumerate(zip(signals, self.states, self.params.weights))]
        return cosine(np.concatenate([e.ravel() for e in est]), np.concatenate([t.ravel() for t in truth]))

    def train_batch(self, x, target):
        if self.probe is not None:
            signals, bias_dirs, loss, self.learner = self._trials(x, target)
        else:
            signals, bias_dirs, loss = self._signals(x, target, self._next_read())
        k = self.k
        new_w, new_s = [], []
        for i, (p, s, w) in enumerate(zip(self.plastic, self.states, self.params.weights)):
            w2, s2 = p.step(k, signals[i], s, w)
            new_w.append(w2)
            new_s.append(s2)
            if bias_dirs[i] is not None:  # biases move through the same optimiser
                u, self.bias_states[i] = chain_update(k, self.bias_chain, bias_dirs[i],
                                                      self.bias_states[i], self.params.biases[i])
                self.params.biases[i] = k.add(self.params.biases[i], u)
        self.params = MLPParams(new_w, self.params.biases)
        self.states = new_s
        return loss

    def state(self):
        """Everything that changes during training (see :mod:`bioplast.training.checkpoints`)."""
        return (self.params, self.states, self.bias_states, (self.reads, self.learner))

    def set_state(self, state) -> None:
        self.params, self.states, self.bias_states = state[0], list(state[1]), list(state[2])
        self.reads, self.learner = state[3]

    def arrays(self) -> dict:
        k = self.k
        return {**{f"W{i}": k.to_numpy(w) for i, w in enumerate(self.params.weights)},
                **{f"b{i}": k.to_numpy(b) for i, b in enumerate(self.params.biases)}}

    def parameters(self) -> list:
        return list(self.params.weights)


def _trial_passes(params: dict) -> int:
    """Forward passes per sample of one zeroth-order step (for the synaptic-operation count): one per
    probe, twice with antithetic probes, plus the baseline pass of ``forward`` — once per step for
    weight probes, once per probe copy of the batch for node probes."""
    probes, estimator = params["probes"], params["estimator"]
    if estimator == "antithetic":
        return 2 * probes
    if estimator == "forward":
        return probes + (1 if params["probe"] == "weight" else probes)
    return probes


def build_model(k, cfg: TrainConfig, n_in: int, n_classes: int):
    """The model for the rule's role: an :class:`~bioplast.models.ep.EPModel` for two-phase
    rules, an MLP or a readout for the others."""
    rule = get_rule(cfg.rule, **cfg.rule_params)
    if rule.spec.params.get("probe") == "weight" and "seed" not in cfg.rule_params:
        rule = get_rule(cfg.rule, **cfg.rule_params, seed=cfg.seed)  # the run's seed draws the probes
    role = rule.spec.role
    device = get_substrate(cfg.substrate, cfg.substrate_params)
    if device.state_bits is not None and not device.inference_only:  # inference-only: refused below, by name
        raise ConfigError(f"substrate {device.name!r} has state_bits = {device.state_bits}: a fixed-point neuron "
                          "state is modelled for spiking networks (bioplast.hardware.on_substrate), not rate "
                          "networks; pick a substrate without it (from Python: substrate_params="
                          "{'state_bits': None})")
    layers = [n_classes] if role in ("feature", "readout") else [*cfg.hidden, n_classes]
    device.check_neurons({f"layer {i + 1}": n for i, n in enumerate(layers)})
    if cfg.network != "mlp":
        if cfg.rule != "backprop":
            raise ConfigError(f"network {cfg.network!r} is trained by the backprop baseline; got rule {cfg.rule!r} "
                              "(use --network mlp with other rules)")
        return DaleModel(k, rule, [n_in, *cfg.hidden, n_classes], cfg.seed, cfg.activation or "relu",
                         cfg.optimizer, cfg.lr, cfg.loss, cfg.network, cfg.inhibitory_fraction, device)
    if rule.spec.contrast:
        return EPModel(k, rule, [n_in, *cfg.hidden, n_classes], cfg.seed, cfg.activation or "tanh",
                       cfg.optimizer, cfg.lr, device)
    if role == "network":
        sizes = [n_in, *cfg.hidden, n_classes]
    elif role in ("feature", "readout"):
        sizes = [n_in, n_classes]
    else:
        raise ConfigError(f"rule {cfg.rule!r} has role {role!r}, which `train` cannot wire into a "
                          "classifier; roles it can: network, feature, readout (see examples/lateral rules "
                          "in examples/decorrelation.py, spiking rules in examples/spiking_stdp.py and "
                          "bioplast.dynamics.spiking.engine)")
    return _Model(k, cfg, rule, sizes)


def check_finite(model, rule: str, epoch: int) -> None:
    for i, w in enumerate(model.parameters()):
        if not np.isfinite(model.k.to_numpy(w)).all():
            raise DivergenceError(f"rule {rule!r} diverged: non-finite weights in parameter {i} "
                                  f"after epoch {epoch} (phase: weight update)")


def accuracy(model: _Model, k, x, y, batch: int = 1000) -> float:
    correct = 0
    for i in range(0, len(x), batch):
        out = k.to_numpy(model.predict(k.asarray(x[i:i + batch])))
        correct += int((out.argmax(1) == y[i:i + batch]).sum())
    return correct / max(len(x), 1)


def train(cfg: TrainConfig, out=None, progress=True, resume: bool = True) -> list:
    """Train and return the per-epoch records; with ``out``, write
    ``config.json``, ``metrics.csv``, ``metrics.json``, ``weights.npz`` and a
    checkpoint there atomically after every epoch.

    With ``resume`` (default) and a checkpoint in ``out``, training continues
    after its last epoch — bit for bit the run that was not interrupted on
    numpy and numba.  The checkpoint must come from the same configuration
    (``epochs`` may grow) and bioplast version, else :class:`DataError`.
    """
    cfg.validate()
    out = ensure_dir(out) if out is not None else None
    k = get_backend(cfg.backend, device=cfg.device, dtype=cfg.dtype)
    data = load_task(cfg.task, cfg.seed, cfg.data_dir)
    sizes = [data.n_features, *cfg.hidden, data.n_classes]
    check_fits(training_bytes(sizes, max(cfg.batch_size, 1000), np.dtype(cfg.dtype).itemsize),
               f"a {'-'.join(map(str, sizes))} network with batch {cfg.batch_size} ({cfg.dtype})")
    model = build_model(k, cfg, data.n_features, data.n_classes)
    config = {**asdict(cfg), "hidden": list(cfg.hidden)}
    identity = {"bioplast_version": __version__, "config": {n: v for n, v in config.items() if n != "epochs"}}
    if out is not None:
        atomic_write_json(out / "config.json", {"bioplast_version": __version__, **config,
                                                "sizes": model.sizes, "rule_spec": _spec_dict(model.rule.spec)})
    targets = one_hot(data.y_train, data.n_classes)
    rng = np.random.default_rng(cfg.seed)
    n = len(data.x_train)
    n_batches = (n + cfg.batch_size - 1) // cfg.batch_size
    records, wall, ops, first = [], 0.0, dict.fromkeys(OPS, 0), 1
    if out is not None and resume and (out / "checkpoint.json").exists():
        (state, rng), meta = checkpoint.load(out, (model.state(), rng), k, identity)
        model.set_state(state)
        if "ops" not in meta:
            raise DataError(f"checkpoint in {str(out)!r} predates the per-operation counts that energy "
                            "estimates need; train into a new folder (or with resume=False)")
        records, wall, ops = meta["records"], meta["wall_time_s"], meta["ops"]
        first = meta["epoch"] + 1
    costs = get_substrate(cfg.substrate, cfg.substrate_params).energy
    # a fixed batch of training samples on which every record measures the alignment with backprop
    probe_x, probe_t = data.x_train[:ALIGNMENT_SAMPLES], targets[:ALIGNMENT_SAMPLES]

    def record(epoch, loss):
        alignment = model.gradient_alignment(probe_x, probe_t)
        records.append({"epoch": epoch, "loss": loss,
                        "train_acc": accuracy(model, k, data.x_train, data.y_train),
                        "test_acc": accuracy(model, k, data.x_test, data.y_test),
                        "wall_time_s": wall, "synops": ops["synops"], "energy_J": total_energy(ops, costs),
                        "grad_alignment": float("nan") if alignment is None else float(alignment)})
        if out is not None:
            write_epoch(out, records, model.arrays(), (model.state(), rng),
                        {**identity, "epoch": epoch, "records": records, "wall_time_s": wall, "ops": ops})

    if first == 1:
        record(0, float("nan"))
    bar = progress_bar((cfg.epochs - first + 1) * n_batches, f"{cfg.rule}/{cfg.task}/{cfg.backend}", progress)
    try:
        for epoch in range(first, cfg.epochs + 1):
            order = rng.permutation(n)
            losses = []
            t0 = time.perf_counter()
            for b in range(n_batches):
                idx = order[b * cfg.batch_size:(b + 1) * cfg.batch_size]
                losses.append(model.train_batch(k.asarray(data.x_train[idx]), k.asarray(targets[idx])))
                count_operations(ops, model, len(idx))
                bar.update(1)
            wall += time.perf_counter() - t0
            loss = float(np.mean(losses))
            # checked once per epoch, before anything is written: a diverged epoch never
            # replaces the last good weights and checkpoint
            if not np.isfinite(loss):
                step = next(i for i, v in enumerate(losses) if not np.isfinite(v))
                raise DivergenceError(f"rule {cfg.rule!r} diverged: non-finite loss in epoch {epoch} from step "
                                      f"{(epoch - 1) * n_batches + step + 1} (batch {step + 1} of {n_batches}, "
                                      f"phase: training); the last good checkpoint (epoch {epoch - 1}) is kept")
            check_finite(model, cfg.rule, epoch)
            record(epoch, loss)
            bar.set_postfix(test_acc=f"{records[-1]['test_acc']:.3f}")
    finally:
        bar.close()
    return records


def write_epoch(out: Path, records: list, arrays: dict, state, meta: dict) -> None:
    """A run folder after an epoch, each file atomically: ``metrics.csv``, ``metrics.json``,
    ``weights.npz``, and last the checkpoint, so that it always describes files already complete."""
    atomic_write_csv(out / "metrics.csv", records, RECORD_COLUMNS)
    atomic_write_json(out / "metrics.json", records)
    atomic_save_npz(out / "weights.npz", **arrays)
    checkpoint.save(out, state, meta)


def count_operations(ops: dict, model, batch: int) -> None:
    """Add one training step's operations to ``ops`` (:data:`~bioplast.hardware.energy.OPS`).  A rate
    network's neuron sends its graded output once per update, so ``spikes`` (messages, as Loihi 2's
    graded spikes) equals ``neuron_updates``; every plastic synapse is written once per step."""
    ops["synops"] += batch * model.synops_per_sample
    ops["neuron_updates"] += batch * model.neuron_updates_per_sample
    ops["spikes"] += batch * model.neuron_updates_per_sample
    ops["weight_writes"] += model.plastic_synapses


def _spec_dict(spec) -> dict:
    d = asdict(spec)
    d["reads"] = sorted(spec.reads)
    return d


def progress_bar(total: int, desc: str, progress, unit: str = "batch"):
    """A run's tqdm bar.  ``progress``: ``False`` (none), ``True`` (the next free line) or an ``int``,
    the terminal line to draw on (a parallel sweep gives each worker process its own line)."""
    from tqdm.auto import tqdm

    position = None if isinstance(progress, bool) else int(progress)
    return tqdm(total=total, desc=desc, disable=progress is False, leave=False, unit=unit, position=position)


def load_records(folder) -> list:
    """Read the records a run wrote (JSON, no code execution)."""
    return json.loads((Path(folder) / "metrics.json").read_text())
