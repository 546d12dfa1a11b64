"""The rate MLP family: one feed-forward network, four ways a rule learns in it.

Every model here is an MLP ``h_l = ρ(W_l h_{l−1} + b_l)`` with a linear output
(:mod:`bioplast.dynamics.feedforward`), Glorot-initialised from the run's seed, every matrix on
its own devices of the run's :class:`~bioplast.hardware.chip.Chip`, every parameter moved by the
optimiser transform (``sgd`` = additive, ``adam``, ``eg`` = exponentiated) and then the devices.
Forward passes read the devices (noisily where the substrate says so) through the chip's
mismatched neurons; rules see that activity — training in the loop.  They differ in the signals
the rule sees:

* :class:`ErrorDrivenMLP` (rules of role ``network``: backprop, feedback alignment, curl):
  ``Local(pre=h_{l−1}, post=m_l, mod=m_l)`` with the errors ``m_l = −B ∂L/∂a_l`` of backprop (or
  carried down by fixed random matrices, feedback alignment).
* :class:`DeltaReadout` (role ``readout``: the delta rule): one softmax layer on the input,
  ``Local(pre=x, post=z, mod=y − softmax(z))``.
* :class:`ClampedReadout` (role ``feature``: hebb, oja, bcm): supervised Hebbian learning of a
  readout ``W[C, D]`` with the postsynaptic activity clamped to the one-hot target (teacher
  forcing); row ``c`` learns a template of class ``c`` (Oja: the class mean), prediction is
  ``argmax W x``.  (Used unsupervised on a hidden layer, single-unit Oja makes every unit learn
  the same principal component and plain Hebb grows without bound: the rules' theory, tested in
  ``tests/rules``, not a useful classifier.)
* :class:`ZerothOrderMLP` (weight and node perturbation): trials of perturbed forward passes
  (:mod:`bioplast.dynamics.perturbation`) give a global reinforcement.

Operation counts per sample (``synops`` are synaptic multiply-accumulates): ``B·S`` per layer
for the forward drive and ``B·S`` for the weight update, plus ``B·S`` per layer above the first
for the backward pass of error-driven rules (``S`` = synapses in the layer); zeroth-order rules
pay one forward pass per trial.
"""

from __future__ import annotations

import numpy as np

from bioplast.core import Local, apply_updates, chain_init, chain_update, plasticity
from bioplast.dynamics.feedforward import MLPParams, backprop_errors, forward, init_mlp
from bioplast.dynamics.perturbation import PerturbationState, node_perturbation_signals, weight_perturbation_signals
from bioplast.errors import ConfigError
from bioplast.geometry import bias_optimizer, optimizer, sign_frozen
from bioplast.hardware.chip import Chip
from bioplast.hardware.substrates import substrates
from bioplast.models.base import Directions, Plan, RateModel, Step, outer_product_counts, register_model, rule_factor
from bioplast.rules.perturbation import weight_probe


class MLP(RateModel):
    """An MLP of layer sizes ``sizes`` on ``chip``, every layer learning with ``rule`` (a
    :class:`~bioplast.core.Rule`; per-layer settings through :meth:`~bioplast.core.Rule.at_layer`).
    ``activation`` (default ReLU), ``optimizer_name`` and ``lr`` build the optimiser transform;
    ``sign_frozen`` projects every step back onto the initial signs; ``loss`` is the loss the
    errors (and the logged loss) come from."""

    def __init__(
        self,
        k,
        rule,
        sizes,
        chip: Chip,
        *,
        activation: str | None = None,
        optimizer_name: str = "sgd",
        lr: float = 0.05,
        loss: str = "cross_entropy",
        frozen_signs: bool = False,
        batch_size: int = 32,
    ):
        self.k, self.rule, self.sizes, self.chip = k, rule, list(sizes), chip
        self.activation, self.loss = activation or "relu", loss
        self.plan = Plan(batch_size)
        chip.check_neurons({f"layer {i + 1}": n for i, n in enumerate(self.sizes[1:])})
        opt = (optimizer(optimizer_name, lr),) + ((sign_frozen(),) if frozen_signs else ())
        params = init_mlp(k, self.sizes, chip.seed, scheme="glorot")
        # each layer on its own devices (own variability and noise streams); under EG no weight may be
        # written as exactly 0, where a multiplicative step could never move it
        placed = [chip.place(k, w, f"W{i}", keep_sign=optimizer_name == "eg") for i, w in enumerate(params.weights)]
        self.plastic = [plasticity(rule.at_layer(i), *opt, *transforms) for i, (_, transforms) in enumerate(placed)]
        self.bias_chain = (bias_optimizer(optimizer_name, lr),)  # biases live in the neurons, not on devices
        self.params = params._replace(weights=[w for w, _ in placed])
        self.states = [p.init(k, w) for p, w in zip(self.plastic, self.params.weights, strict=True)]
        self.bias_states = [chain_init(k, self.bias_chain, b) for b in self.params.biases]
        self.neurons = chip.neurons(self.sizes[1:])  # the chip's neurons' gains and offsets (None: matched)
        self.reads = chip.reads()  # every forward pass reads the devices: noisily where the profile says so
        synapses = [a * b for a, b in zip(self.sizes[:-1], self.sizes[1:], strict=True)]
        self.plastic_synapses = sum(synapses)
        self.synops_per_sample = 2 * sum(synapses)
        self.neuron_updates_per_sample = sum(self.sizes[1:])

    # ---- the network the chip computes --------------------------------------------------------
    def network(self) -> MLPParams:
        """The weights on the devices through the chip's mismatched neurons: ``g ⊙ W``, ``g ⊙ b + o``."""
        mm = self.neurons
        if mm is None:
            return self.params
        return MLPParams(
            [mm.rows(i, w) for i, w in enumerate(self.params.weights)],
            [mm.bias(i, b) for i, b in enumerate(self.params.biases)],
        )

    def next_read(self):
        """The read noise of the next forward pass (``None`` on an exact substrate)."""
        return None if self.reads is None else self.reads.next(self.k)

    def predict(self, x):
        _, out = forward(self.k, self.network(), x, self.activation, self.next_read())
        return out

    # ---- learning -------------------------------------------------------------------------------
    def signals(self, x, target, read):
        """``(per-layer signals, per-layer bias directions or None, loss)`` of one batch."""
        raise NotImplementedError

    def train_batch(self, x, target) -> Step:
        x, target = self.k.asarray(x), self.k.asarray(target)
        signals, bias_dirs, loss = self.signals(x, target, self.next_read())
        self.apply(signals, bias_dirs)
        pairs = [(s.pre, rule_factor(self.rule, s)) for s in signals]
        return Step(loss, self.ops(int(x.shape[0]), outer_product_counts(pairs)))

    def apply(self, signals, bias_dirs) -> None:
        """One plasticity step per layer; biases move through the optimiser alone."""
        k = self.k
        weights, states, biases = [], [], list(self.params.biases)
        for i, (p, s, w) in enumerate(zip(self.plastic, self.states, self.params.weights, strict=True)):
            w, s = p.apply(k, signals[i], s, w)
            weights.append(w)
            states.append(s)
            if bias_dirs[i] is not None:
                u, self.bias_states[i] = chain_update(k, self.bias_chain, bias_dirs[i], self.bias_states[i], biases[i])
                biases[i] = apply_updates(k, biases[i], u)
        self.params, self.states = MLPParams(weights, biases), states

    def rule_directions(self, signals) -> list:
        """The rule's direction per layer (before optimiser and devices) for ``signals``."""
        return [
            self.rule.at_layer(i).update(self.k, sig, st.rule, w)[0]
            for i, (sig, st, w) in enumerate(zip(signals, self.states, self.params.weights, strict=True))
        ]

    def backprop_gradient(self, x, target, loss: str | None = None) -> list:
        """``−∇L`` of every layer's weights at the chip's network, read exactly (autograd)."""
        inputs, errors, _ = backprop_errors(self.k, self.network(), x, target, self.activation, loss or self.loss)
        return [self.k.outer_mean(e, h) for e, h in zip(errors, inputs, strict=True)]

    # ---- state ------------------------------------------------------------------------------------
    def state(self):
        """Everything that changes during training (see :mod:`bioplast.training.checkpoints`)."""
        return (self.params, self.states, self.bias_states, self._counters())

    def _counters(self):
        return 0 if self.reads is None else self.reads.count

    def load_state(self, state) -> None:
        self.params, self.states, self.bias_states = state[0], list(state[1]), list(state[2])
        self._load_counters(state[3])

    def _load_counters(self, counters) -> None:
        if self.reads is not None:
            self.reads.count = int(counters)

    def arrays(self) -> dict:
        k = self.k
        return {
            **{f"W{i}": k.to_numpy(w) for i, w in enumerate(self.params.weights)},
            **{f"b{i}": k.to_numpy(b) for i, b in enumerate(self.params.biases)},
        }

    def parameters(self) -> list:
        return list(self.params.weights)

    def parameter_names(self) -> list:
        """What each of :meth:`parameters` is, for messages (``W1`` feeds the first hidden layer)."""
        n = len(self.params.weights)
        return [f"W{i + 1} (into {'the output' if i == n - 1 else f'hidden layer {i + 1}'})" for i in range(n)]


class ErrorDrivenMLP(MLP):
    """Rules fed by an error per neuron: backprop's (through the chip's own activity), or carried
    down by fixed random matrices (feedback alignment: ``feedback`` = ``"random"`` in the rule's
    params; drawn like the weights, from the chip's stream ``"feedback"``)."""

    def __init__(self, k, rule, sizes, chip, **kw):
        super().__init__(k, rule, sizes, chip, **kw)
        self.feedback = (
            init_mlp(k, self.sizes, chip.stream("feedback"), scheme="glorot").weights
            if rule.spec.params.get("feedback") == "random"
            else None
        )
        # the backward pass: one error unit per hidden neuron and one product per synapse above layer 1
        self.synops_per_sample += sum(a * b for a, b in zip(self.sizes[1:-1], self.sizes[2:], strict=True))
        self.neuron_updates_per_sample += sum(self.sizes[1:-1])

    def signals(self, x, target, read):
        inputs, errors, loss = backprop_errors(
            self.k, self.network(), x, target, self.activation, self.loss, self.feedback, read
        )
        # backprop reads pre and mod only; biases follow the same error
        return (
            [Local(pre=h, post=e, mod=e) for h, e in zip(inputs, errors, strict=True)],
            [self.k.batch_mean(e) for e in errors],
            loss,
        )

    def directions(self, x, target) -> Directions:
        x, target = self.k.asarray(x), self.k.asarray(target)
        signals, _, _ = self.signals(x, target, None)
        return Directions(self.rule_directions(signals), self.backprop_gradient(x, target))


def _softmax_loss(k, out, target) -> float:
    probs = k.to_numpy(k.softmax(out))
    return float(-np.mean(np.log(np.clip((probs * k.to_numpy(target)).sum(1), 1e-12, None))))


class DeltaReadout(MLP):
    """One softmax layer on the input learning with the delta rule's error ``y − softmax(z)``."""

    def signals(self, x, target, read):
        inputs, out = forward(self.k, self.network(), x, self.activation, read)
        error = target - self.k.softmax(out)
        return (
            [Local(pre=inputs[0], post=out, mod=error)],
            [self.k.batch_mean(error)],
            _softmax_loss(self.k, out, target),
        )

    def directions(self, x, target) -> Directions:
        x, target = self.k.asarray(x), self.k.asarray(target)
        signals, _, _ = self.signals(x, target, None)
        return Directions(self.rule_directions(signals), self.backprop_gradient(x, target, "cross_entropy"))


class ClampedReadout(MLP):
    """A Hebbian readout with the postsynaptic activity clamped to the target (teacher forcing)."""

    def signals(self, x, target, read):
        inputs, out = forward(self.k, self.network(), x, self.activation, read)
        return [Local(pre=inputs[0], post=target)], [None], _softmax_loss(self.k, out, target)

    def directions(self, x, target) -> None:
        return None  # a clamped Hebbian readout follows no loss's gradient


def trial_passes(params: dict) -> int:
    """Forward passes per sample of one zeroth-order step (for the synaptic-operation count): one per
    probe, twice with antithetic probes, plus the baseline pass of ``forward`` — once per step for
    weight probes, once per probe copy of the batch for node probes."""
    probes, estimator = params["probes"], params["estimator"]
    if estimator == "antithetic":
        return 2 * probes
    if estimator == "forward":
        return probes + (1 if params["probe"] == "weight" else probes)
    return probes


class ZerothOrderMLP(MLP):
    """Weight or node perturbation: each step runs trials of perturbed forward passes and the rule
    correlates their reinforcement with the probes.  Node perturbation on ``noise="device"`` takes
    the substrate's read noise as its probe (the chip must read noisily)."""

    def __init__(self, k, rule, sizes, chip, **kw):
        p = rule.spec.params
        if p["noise"] == "device" and chip.read_scale == 0:
            noisy = [n for n, q in substrates().items() if q.read_noise > 0]
            raise ConfigError(
                f"rule {rule.spec.name!r} with noise='device' uses the substrate's read noise as its "
                f"probe, but substrate {chip.profile.name!r} reads exactly (read_noise = 0); "
                f"substrates with read noise: {', '.join(noisy) or 'none installed'}"
            )
        super().__init__(k, rule, sizes, chip, **kw)
        self.p = p
        self.learner = PerturbationState(0, 0.0)
        synapses = self.plastic_synapses
        passes = trial_passes(p)
        self.synops_per_sample = passes * synapses + synapses  # forward passes only, plus the update
        self.neuron_updates_per_sample = passes * sum(self.sizes[1:])

    def _trials(self, x, target, learner, next_read, probe_seed):
        k, p = self.k, self.p
        if p["probe"] == "weight":
            probes = [
                weight_probe(k, s.rule, tuple(w.shape), p["probes"])
                for s, w in zip(self.states, self.params.weights, strict=True)
            ]
            rng = np.random.default_rng([probe_seed, learner.step])
            bias_probes = [k.asarray(rng.standard_normal((p["probes"], int(b.shape[0])))) for b in self.params.biases]
            if self.neurons is not None:  # the chip computes g ⊙ (W + σξ): its probes are g ⊙ ξ
                probes = [xi * k.asarray(g[None, :, None]) for xi, (g, _) in zip(probes, self.neurons, strict=True)]
                bias_probes = [z * k.asarray(g[None, :]) for z, (g, _) in zip(bias_probes, self.neurons, strict=True)]
            return weight_perturbation_signals(
                k,
                self.network(),
                x,
                target,
                self.activation,
                self.loss,
                probes,
                bias_probes,
                p["sigma"],
                p["estimator"],
                learner,
                next_read,
            )
        return node_perturbation_signals(
            k,
            self.network(),
            x,
            target,
            self.activation,
            self.loss,
            p["sigma"],
            p["probes"],
            p["estimator"],
            p["noise"],
            probe_seed,
            learner,
            next_read,
        )

    def train_batch(self, x, target) -> Step:
        x, target = self.k.asarray(x), self.k.asarray(target)
        trials = self._trials(x, target, self.learner, self.next_read, self.chip.stream("probes"))
        self.learner = trials.state
        self.apply(trials.signals, trials.bias_directions)
        # the update correlates each probe's reinforcement with its probe: one product per synapse and
        # probe, whatever the batch (the trials' operands are batch means, never zero by construction)
        products = self.plastic_synapses * int(self.p["probes"])
        return Step(trials.loss, self.ops(int(x.shape[0]), (products, products)))

    def directions(self, x, target) -> Directions:
        """One set of probes at the current weights, on a stream of its own (the training's reads and
        probes are untouched), against backprop's ``−∇L`` read exactly."""
        x, target = self.k.asarray(x), self.k.asarray(target)
        reads = None if self.reads is None else self.chip.reads("alignment reads")
        trials = self._trials(
            x,
            target,
            PerturbationState(0, 0.0),
            lambda: None if reads is None else reads.next(self.k),
            self.chip.stream("alignment probes"),
        )
        return Directions(self.rule_directions(trials.signals), self.backprop_gradient(x, target))

    def _counters(self):
        return (super()._counters(), self.learner)

    def _load_counters(self, counters) -> None:
        super()._load_counters(counters[0])
        self.learner = counters[1]


def mlp_builder(cls, readout: bool = False):
    """A model-kind builder ``(cfg, k, data) -> cls(...)`` for an :class:`MLP` subclass: the layer
    sizes from the data and ``cfg.hidden`` (``readout``: one layer, input to classes), the rule,
    chip and optimiser from ``cfg`` — what a plugin registers for an MLP whose ``signals`` it
    writes itself."""

    def build(cfg, k, data):
        rule = cfg.make_rule()
        sizes = [data.n_features, data.n_classes] if readout else [data.n_features, *cfg.hidden, data.n_classes]
        return cls(
            k,
            rule,
            sizes,
            cfg.chip(),
            activation=cfg.activation,
            optimizer_name=cfg.optimizer,
            lr=cfg.lr,
            loss=cfg.loss,
            frozen_signs=cfg.sign_frozen,
            batch_size=cfg.batch_size,
        )

    return build


register_model("error_driven", mlp_builder(ErrorDrivenMLP, readout=False))
register_model("zeroth_order", mlp_builder(ZerothOrderMLP, readout=False))
register_model("delta_readout", mlp_builder(DeltaReadout, readout=True))
register_model("clamped_readout", mlp_builder(ClampedReadout, readout=True))
