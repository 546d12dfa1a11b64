r"""Diehl & Cook (2015): unsupervised digit recognition with STDP.

"Unsupervised learning of digit recognition using spike-timing-dependent
plasticity", Front. Comput. Neurosci. 9:99.  Parameters follow the
authors' Brian code (the paper's Methods and its published script):

* 784 Poisson inputs, rate ``pixel · 63.75 Hz · intensity/2`` (pixels in [0, 1]);
* ``n`` excitatory conductance-based neurons (τ_m 100 ms, rest/reset −65 mV,
  threshold −52 mV + θ, refractory 5 ms, E_e 0, E_i −100 mV, τ_ge 1 ms,
  τ_gi 2 ms) with adaptive thresholds (θ₊ 0.05 mV, τ_θ 10⁷ ms);
* ``n`` inhibitory neurons (τ_m 10 ms, rest −60 mV, reset −45 mV, threshold
  −40 mV, refractory 2 ms, E_i −85 mV); excitatory → inhibitory one to one
  (weight 10.4), inhibitory → excitatory all but self (weight 17);
* input → excitatory weights uniform in [0, 0.3], learnt with the nearest-spike
  triplet rule (ν_pre 10⁻⁴, ν_post 10⁻², τ 20/20/40 ms), clipped to [0, 1];
  before every digit each neuron's incoming weights are rescaled to sum 78;
* 350 ms presentation, 150 ms rest; a digit that drives fewer than 5
  excitatory spikes is shown again with the intensity raised by 1;
* after training each neuron is labelled with the class it responds to most
  (on the training digits, weights and thresholds frozen); a test digit gets
  the class whose neurons spike most on average.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from bioplast.backends import get_backend
from bioplast.core import apply_updates, chain_init, chain_update, plasticity
from bioplast.dynamics.spiking.engine import SimState, initial_state, simulate
from bioplast.dynamics.spiking.network import Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.spiking.neurons import CondLIF
from bioplast.errors import ConfigError, DataError
from bioplast.geometry import additive
from bioplast.hardware import clip_bounds
from bioplast.hardware.chain import device_transforms
from bioplast.hardware.chip import Chip
from bioplast.models.base import Plan, Step, register_model
from bioplast.rules.stdp import diehl_cook_stdp
from bioplast.validate import array, positive, positive_int

INPUT, EXC, INH = "input", "exc", "inh"
PLASTIC = f"{INPUT}->{EXC}"


@dataclass(frozen=True)
class DiehlCookConfig:
    n_neurons: int = 400
    dt: float = 0.5e-3
    t_present: float = 0.35
    t_rest: float = 0.15
    max_rate: float = 63.75  # Hz for a white pixel at intensity 2
    intensity: float = 2.0
    min_spikes: int = 5
    max_retries: int = 20
    weight_total: float = 78.0
    w_init: float = 0.3
    w_exc_inh: float = 10.4
    w_inh_exc: float = 17.0
    nu_pre: float = 1e-4
    nu_post: float = 1e-2
    theta_plus: float = 0.05e-3
    theta_init: float = 20e-3
    threshold_offset: float = 20e-3  # the script's threshold is v > θ − 20 mV − 52 mV, θ starting at 20 mV

    def __post_init__(self):
        positive_int("n_neurons", self.n_neurons)
        for name in ("dt", "t_present", "t_rest", "max_rate", "intensity", "weight_total", "w_init"):
            positive(name, getattr(self, name))
        if self.max_rate * (self.intensity + self.max_retries) * self.dt > 1:
            raise ConfigError(f"max_rate {self.max_rate} Hz at the highest retry intensity exceeds 1/dt")

    @property
    def steps_present(self) -> int:
        return int(round(self.t_present / self.dt))

    @property
    def steps_rest(self) -> int:
        return int(round(self.t_rest / self.dt))


def excitatory_neuron(cfg: DiehlCookConfig, learning: bool = True) -> CondLIF:
    return CondLIF(
        v_rest=-65e-3,
        v_reset=-65e-3,
        v_thresh=-52e-3 - cfg.threshold_offset,
        tau_mem=100e-3,
        e_exc=0.0,
        e_inh=-100e-3,
        tau_ge=1e-3,
        tau_gi=2e-3,
        refractory=5e-3,
        theta_plus=cfg.theta_plus if learning else 0.0,
        tau_theta=1e4 if learning else None,
        theta_init=cfg.theta_init,
    )


def inhibitory_neuron() -> CondLIF:
    return CondLIF(
        v_rest=-60e-3,
        v_reset=-45e-3,
        v_thresh=-40e-3,
        tau_mem=10e-3,
        e_exc=0.0,
        e_inh=-85e-3,
        tau_ge=1e-3,
        tau_gi=2e-3,
        refractory=2e-3,
    )


def build_network(
    cfg: DiehlCookConfig, weights: np.ndarray, learning: bool = True, read_noise: float = 0.0, read_seed: int = 0
) -> SpikingNetwork:
    """The network with input weights ``weights[n_neurons, n_inputs]``; ``learning=False``
    freezes θ (no increments, no decay) as in the authors' test mode.  ``read_noise``: the input
    weights' devices read noisily (:class:`~bioplast.dynamics.spiking.network.Projection`)."""
    n, n_in = cfg.n_neurons, weights.shape[1]
    stdp = plasticity(diehl_cook_stdp(cfg.nu_pre, cfg.nu_post, dt=cfg.dt), additive(1.0), clip_bounds(0.0, 1.0))
    return SpikingNetwork(
        [SpikeSource(INPUT, n_in)],
        [Population(EXC, n, excitatory_neuron(cfg, learning)), Population(INH, n, inhibitory_neuron())],
        [
            Projection(
                INPUT,
                EXC,
                "ge",
                weights,
                plasticity=stdp if learning else None,
                read_noise=read_noise,
                read_seed=read_seed,
            ),
            Projection(EXC, INH, "ge", cfg.w_exc_inh, "one_to_one"),
            Projection(INH, EXC, "gi", cfg.w_inh_exc, "all_but_self"),
        ],
        cfg.dt,
    )


def normalize_incoming(w: np.ndarray, total: float) -> np.ndarray:
    """Scale each neuron's incoming weights (a row of ``W[n_post, n_pre]``) to sum ``total``:
    the per-digit homeostatic normalisation of Diehl & Cook."""
    sums = w.sum(axis=1, keepdims=True)
    return w * (total / np.where(sums > 0, sums, 1.0))


# the triplet rule's traces: r₁, r₂ per input, o₁, o₂ per excitatory neuron (bioplast.rules.stdp)
PRE_TRACES, POST_TRACES = 2, 2


def stdp_counts(pre_spikes: int, post_spikes: int, n_pre: int, n_post: int, sample_steps: int) -> dict:
    """The plasticity's own work over ``sample_steps`` (time steps × samples) of the input → excitatory
    projection: a presynaptic spike depresses its ``n_post`` synapses and a postsynaptic spike
    potentiates its ``n_pre`` synapses (effective); a clock-driven update evaluates both terms at
    every synapse every step (dense, ``2 n_pre n_post`` a step); every trace decays every step."""
    return {
        "plasticity_dense": 2 * n_pre * n_post * sample_steps,
        "plasticity_effective": pre_spikes * n_post + post_spikes * n_pre,
        "trace_updates": (PRE_TRACES * n_pre + POST_TRACES * n_post) * sample_steps,
    }


class TrainLog(NamedTuple):
    counts: np.ndarray  # excitatory spike counts per training digit [n_digits, n]
    retries: np.ndarray  # extra presentations per digit
    ops: dict  # operation counts of the whole pass (spikes, synops, neuron updates, weight writes)


class DiehlCook:
    """The model: build, :meth:`train` one pass, :meth:`assign_labels`, :meth:`predict`."""

    def __init__(
        self,
        n_inputs: int = 784,
        config: DiehlCookConfig | None = None,
        *,
        seed: int = 0,
        backend: str = "numba",
        substrate=None,
    ):
        """``substrate``: a :class:`~bioplast.hardware.DeviceProfile` whose devices hold the input
        weights (``None``: float weights).  The chip learns in epochs of one presentation, as
        BrainScaleS-2's plasticity processor and Loihi's learning epochs do: during a digit the STDP
        update accumulates at full precision (the simulation runs the float rule, so the network's
        own spikes see it as it accumulates — the one departure from a chip, whose weights hold still
        within an epoch); at the end of the digit the accumulated update goes through the devices
        once (:func:`~bioplast.hardware.device_transforms`: rounding, bounds, noise).  The per-digit
        normalisation, which has no on-chip form, re-programs the normalised weights onto the devices
        (:func:`~bioplast.hardware.program`: nearest level, clipped), a host-in-the-loop write counted
        as weight writes.  A substrate with read noise reads the input weights noisily at every
        delivered spike, in training and evaluation (``σ_read S``,
        :func:`~bioplast.hardware.reads.read_scale`); the training's reads are counted across passes
        (:meth:`state`), and each evaluation draws from its own stream."""
        self.cfg = config or DiehlCookConfig()
        self.n_inputs = positive_int("n_inputs", n_inputs)
        self.seed = int(seed)
        self.k = get_backend(backend)
        self.substrate = substrate
        self.chip = Chip(substrate, self.seed)
        rng = np.random.default_rng(self.seed)
        self.weights = self._program(rng.uniform(0.0, self.cfg.w_init, (self.cfg.n_neurons, self.n_inputs)))
        self.theta = np.full(self.cfg.n_neurons, self.cfg.theta_init)
        self.labels: np.ndarray | None = None
        self._stream = np.random.SeedSequence(self.seed)
        self._read_noise = 0.0
        self._read_steps = 0  # steps of training so far: the key of the training's next read-noise draw
        # the devices' own state (per-device gains, draw counters) lives across passes, like the chip
        self._devices = None
        if substrate is not None:
            self._chain = device_transforms(substrate, self.chip.stream(PLASTIC))
            self._devices = chain_init(self._host, self._chain, self._host.asarray(self.weights))
            self._read_noise = self.chip.read_scale

    @property
    def _host(self):
        return get_backend("numpy", dtype="float64")

    def _write(self, before, after):
        """The weights after the devices take the update ``after − before`` (one learning epoch)."""
        if not self._chain:  # a substrate without device effects: the float update, bit for bit
            return after
        k = self._host
        update, self._devices = chain_update(
            k, self._chain, k.asarray(after - before), self._devices, k.asarray(before)
        )
        return k.to_numpy(apply_updates(k, k.asarray(before), update))

    def _program(self, w):
        """The weights as the substrate holds them (unchanged without one)."""
        if self.substrate is None:
            return w
        k = self._host
        return k.to_numpy(self.chip.program(k, k.asarray(w), PLASTIC))

    def _check(self, images):
        x = array("images", images, ndim=2, floating=True)
        if x.shape[1] != self.n_inputs:
            raise DataError(f"images must have {self.n_inputs} pixels per row, got {x.shape[1]}")
        if x.size and (x.min() < 0 or x.max() > 1):
            raise DataError(f"pixels must be in [0, 1], got range [{x.min():g}, {x.max():g}]")
        return x

    def _spikes(self, images, intensity, rng):
        rates = images * (self.cfg.max_rate * intensity / 2.0)
        steps = self.cfg.steps_present
        return rng.random((steps,) + rates.shape, dtype=np.float32) < rates * self.cfg.dt

    def _present(self, net, state, images, learn, rng):
        """Show ``images[B]`` (raising the intensity of digits that stay silent), then rest."""
        cfg = self.cfg
        intensity = np.full(len(images), cfg.intensity)
        counts = np.zeros((len(images), cfg.n_neurons), dtype=np.int64)
        retries = np.zeros(len(images), dtype=np.int64)
        pending = np.arange(len(images))
        ops = {}
        silence = np.zeros((cfg.steps_rest, len(images), self.n_inputs), dtype=bool)
        n_steps = cfg.steps_present + cfg.steps_rest
        for _ in range(cfg.max_retries + 1):
            spikes = self._spikes(images[pending], intensity[pending, None], rng)
            if len(pending) < len(images):
                full = np.zeros((spikes.shape[0], len(images), self.n_inputs), dtype=bool)
                full[:, pending] = spikes
                spikes = full
            state, rec = simulate(net, {INPUT: spikes}, backend=self.k, state=state, learn=learn)
            state, rest = simulate(net, {INPUT: silence}, backend=self.k, state=state, learn=learn)
            step_ops = {k: rec.ops[k] + rest.ops[k] for k in rec.ops}
            if learn:
                post = int(rec.counts[EXC].sum() + rest.counts[EXC].sum())
                step_ops.update(
                    stdp_counts(int(spikes.sum()), post, self.n_inputs, cfg.n_neurons, len(images) * n_steps)
                )
            ops = {k: ops.get(k, 0) + v for k, v in step_ops.items()}
            got = rec.counts[EXC][pending]
            counts[pending] = got
            quiet = got.sum(axis=1) < cfg.min_spikes
            if not quiet.any():
                break
            pending = pending[quiet]
            retries[pending] += 1
            intensity[pending] += 1
        return state, counts, retries, ops

    def train(self, images, progress: bool = False) -> TrainLog:
        """One online pass (batch 1) over ``images[n, 784]`` with STDP and adaptive thresholds."""
        from tqdm.auto import tqdm

        x = self._check(images)
        cfg = self.cfg
        net = build_network(cfg, self.weights, True, self._read_noise, self.chip.stream("reads"))
        state = self._state(net, 1, self._read_steps)
        rng = np.random.default_rng(self._stream.spawn(1)[0])
        counts, retries, rewrites = [], [], 0
        ops: dict[str, int] = {}
        for i in tqdm(range(len(x)), desc="Diehl & Cook training", unit="digit", disable=not progress):
            before = np.asarray(self.k.to_numpy(state.weights[0]), dtype=np.float64)
            w = self._program(normalize_incoming(before, cfg.weight_total))
            rewrites += int((w != before).sum())
            state = state._replace(weights=(self.k.asarray(w),) + state.weights[1:])
            state, c, r, o = self._present(net, state, x[i : i + 1], True, rng)
            if self.substrate is not None:
                learnt = self._write(w, np.asarray(self.k.to_numpy(state.weights[0]), dtype=np.float64))
                state = state._replace(weights=(self.k.asarray(learnt),) + state.weights[1:])
            ops = {k: ops.get(k, 0) + o[k] for k in o}
            counts.append(c[0])
            retries.append(r[0])
        self.weights = self._program(
            normalize_incoming(np.asarray(self.k.to_numpy(state.weights[0]), dtype=np.float64), cfg.weight_total)
        )
        self.theta = np.asarray(self.k.to_numpy(state.theta))[0, : cfg.n_neurons].astype(np.float64)
        self._read_steps = int(state.step)
        if self.substrate is not None and self._chain:  # an effect-free substrate is the float model
            ops["weight_writes"] = ops.get("weight_writes", 0) + rewrites  # the normalisation's re-programming
        return TrainLog(np.asarray(counts), np.asarray(retries), ops)

    def state(self) -> tuple:
        """What training changes: ``(weights, theta, inputs drawn so far, training steps so far)`` (the
        input streams are children of the seed's sequence, so a count restores them; the steps key
        the read noise), plus the devices' state on a substrate."""
        base = (self.weights, self.theta, int(self._stream.n_children_spawned), self._read_steps)
        return base if self._devices is None else base + (self._devices,)

    def set_state(self, state) -> None:
        self.weights, self.theta, spawned, self._read_steps = state[:4]
        if self._devices is not None:
            self._devices = state[4]
        self._stream = np.random.SeedSequence(self.seed, n_children_spawned=int(spawned))

    def _state(self, net, batch, step: int = 0) -> SimState:
        st = initial_state(net, self.k, batch)
        theta = np.zeros(tuple(st.theta.shape))
        theta[:, : self.cfg.n_neurons] = self.theta
        return st._replace(theta=self.k.asarray(theta), step=int(step))

    def responses(self, images, batch: int = 50, progress: bool = False, seed=None) -> np.ndarray:
        """Excitatory spike counts ``[n, n_neurons]`` with weights and thresholds frozen.  The input
        spikes come from the model's stream, or from ``seed`` when given (an evaluation that leaves
        the training's inputs as they would have been)."""
        from tqdm.auto import tqdm

        x = self._check(images)
        stream = self._stream.spawn(1)[0] if seed is None else np.random.SeedSequence(seed)
        rng = np.random.default_rng(stream)
        # the evaluation's reads: keyed by its own stream, counted on across batches
        net = build_network(
            self.cfg, self.weights, False, self._read_noise, int(stream.generate_state(1, np.uint64)[0])
        )
        out, step = [], 0
        for a in tqdm(range(0, len(x), batch), desc="Diehl & Cook responses", unit="batch", disable=not progress):
            chunk = x[a : a + batch]
            st, counts, _, _ = self._present(net, self._state(net, len(chunk), step), chunk, False, rng)
            out.append(counts)
            step = st.step
        return np.concatenate(out)

    def assign_labels(self, counts: np.ndarray, labels: np.ndarray, n_classes: int = 10) -> np.ndarray:
        """Each neuron's class: the one with the highest mean response (Diehl & Cook's assignment)."""
        y = np.asarray(labels)
        means = np.stack(
            [counts[y == c].mean(axis=0) if (y == c).any() else np.zeros(counts.shape[1]) for c in range(n_classes)]
        )
        self.labels = means.argmax(axis=0)
        return self.labels

    def predict(self, counts: np.ndarray, n_classes: int = 10) -> np.ndarray:
        """Class whose assigned neurons spike most on average, per digit."""
        if self.labels is None:
            raise ConfigError("assign_labels must run before predict")
        votes = np.stack(
            [
                counts[:, self.labels == c].mean(axis=1) if (self.labels == c).any() else np.zeros(len(counts))
                for c in range(n_classes)
            ],
            axis=1,
        )
        return votes.argmax(axis=1)


class DiehlCookModel:
    """Diehl & Cook as a :class:`~bioplast.models.base.Model`: one online pass (batch 1, in order)
    over the epoch's training digits per step; after each pass every neuron is labelled with its
    preferred class on those digits and the test digits are classified by vote (``train_acc``: the
    vote on the labelling digits).  The rule minimises no loss.  Evaluation inputs come from their
    own streams, so training sees the same spikes whether it is evaluated or not."""

    kind = "spiking"

    def __init__(self, n_inputs: int, config: DiehlCookConfig, seed: int, backend: str, substrate=None, samples=None):
        self.net = DiehlCook(n_inputs, config, seed=seed, backend=backend, substrate=substrate)
        self.plan = Plan(batch_size=None, shuffle=False, samples=samples, has_loss=False)
        self.sizes = [n_inputs, config.n_neurons]
        self.progress = False  # a per-digit bar (set by the loop when the epoch is one step)

    def train_batch(self, x, target) -> Step:
        log = self.net.train(np.asarray(x, dtype=np.float64), progress=self.progress)
        return Step(math.nan, {k: int(v) for k, v in log.ops.items()})

    def accuracies(self, data) -> tuple:
        m = self.net
        n = len(data.x_train) if self.plan.samples is None else min(self.plan.samples, len(data.x_train))
        x, y = data.x_train[:n].astype(np.float64), data.y_train[:n]
        counts = m.responses(x, seed=[m.seed, 1])
        m.assign_labels(counts, y)
        train = float(np.mean(m.predict(counts) == y))
        test = m.predict(m.responses(data.x_test.astype(np.float64), seed=[m.seed, 2]))
        return train, float(np.mean(test == data.y_test))

    def state(self):
        return self.net.state()

    def load_state(self, state) -> None:
        self.net.set_state(state)

    def arrays(self) -> dict:
        return {"W": self.net.weights, "theta": self.net.theta}

    def parameters(self) -> list:
        return [self.net.weights]

    def directions(self, x, target) -> None:
        return None  # STDP follows no loss's gradient


@register_model("diehl_cook")
def _build(cfg, k, data) -> DiehlCookModel:
    # 8×8 digits have 12× fewer pixels than MNIST: the incoming weight total scales with the input
    extra = {} if cfg.theta_plus is None else {"theta_plus": cfg.theta_plus}
    dc = DiehlCookConfig(n_neurons=cfg.n_neurons, weight_total=78.0 * data.n_features / 784, **extra)
    substrate = None if cfg.substrate == "ideal" and not cfg.substrate_params else cfg.device
    return DiehlCookModel(data.n_features, dc, cfg.seed, cfg.backend, substrate, cfg.train_samples)
