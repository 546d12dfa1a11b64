"""An EP network wired for training: layered relaxation, the EP family's contrasts, one chip.

The network is ``[D, *hidden, C]`` (``mse``: the top layer is the output) or
``[D, *hidden]`` plus a softmax readout ``[C, hidden[-1]]`` outside the energy
(``cross_entropy``), PyTorch-default init as in the published EP code.
Generalized EP adds top-down weights ``B_l = (1 − a) W_lᵀ + a R_l``.

Every parameter moves through the same optimiser transform (``sgd`` or
``adam``): weights through ``plasticity(rule, optimiser)`` fed by
:func:`bioplast.dynamics.equilibrium.ep_phases`, the readout through the delta rule on its
local error, biases through the optimiser chain alone.  Every weight matrix (bottom-up,
top-down, readout) sits on its own devices of the run's :class:`~bioplast.hardware.chip.Chip`
and every update goes through the profile's transforms after the optimiser; the relaxation
runs through the chip's mismatched neurons and, on a substrate with read noise, reads every
matrix noisily at every step.
"""

from __future__ import annotations

import numpy as np

from bioplast.backends.counter_rng import row_scaled_normal
from bioplast.core import Oscillation, apply_updates, chain_init, chain_update, plasticity
from bioplast.dynamics.equilibrium import ep_phases, homeostatic_directions
from bioplast.dynamics.feedforward import init_mlp
from bioplast.dynamics.relaxation import EPNet, output, relax
from bioplast.errors import ConfigError
from bioplast.geometry import bias_optimizer, optimizer
from bioplast.hardware.chip import Chip
from bioplast.models.base import Directions, Plan, RateModel, Step, outer_product_counts, register_model
from bioplast.rules.eqprop import bias_direction
from bioplast.rules.hebbian import delta

# what a two-phase (``contrast``) rule's spec must give the network that relaxes its phases
PHASE_PARAMS = ("beta", "free_steps", "nudge_steps", "estimator", "cost", "dt", "points")


def phase_params(rule) -> dict:
    """The rule's phase parameters (:data:`PHASE_PARAMS`), or a :class:`ConfigError` naming the
    missing ones — a plugin's contrast rule declares them in its ``RuleSpec.params``."""
    p = rule.spec.params
    missing = [n for n in PHASE_PARAMS if n not in p]
    if missing:
        raise ConfigError(
            f"two-phase rule {rule.spec.name!r} does not declare {', '.join(missing)} in its "
            f"RuleSpec.params; the EP network needs {', '.join(PHASE_PARAMS)}"
        )
    return p


def init_epnet(k, sizes, seed: int, cost: str, asymmetry: float | None = None) -> EPNet:
    """``sizes = [D, *hidden, C]``; with ``cross_entropy`` the last layer is the
    readout.  ``asymmetry`` (generalized EP) draws top-down weights mixing
    ``W_lᵀ`` with an independent draw of the same init, from the stream ``[seed, 1]``."""
    p = init_mlp(k, sizes, seed, scheme="torch")
    ws, bs = list(p.weights), list(p.biases)
    readout = (ws.pop(), bs.pop()) if cost == "cross_entropy" else None
    feedback = None
    if asymmetry is not None:
        r = init_mlp(k, sizes, [seed, 1], scheme="torch").weights
        feedback = [w.T * (1 - asymmetry) + rw.T * asymmetry for w, rw in zip(ws[1:], r[1:], strict=True)]
    return EPNet(ws, bs, feedback, readout)


class EPModel(RateModel):
    """Weights, optimiser states and the phases of one EP rule (``eqprop``, ``holo_eqprop``,
    ``gen_eqprop``) on ``chip``; ``sizes = [D, *hidden, C]``."""

    def __init__(
        self,
        k,
        rule,
        sizes,
        chip: Chip | None = None,
        *,
        activation: str = "tanh",
        optimizer_name: str = "sgd",
        lr: float = 0.05,
        batch_size: int = 32,
    ):
        chip = chip or Chip()
        self.k, self.rule, self.activation, self.chip = k, rule, activation, chip
        self.plan = Plan(batch_size)
        self.p = p = phase_params(rule)
        generalized = "asymmetry" in p
        net = init_epnet(k, sizes, chip.seed, p["cost"], p["asymmetry"] if generalized else None)
        opt = optimizer(optimizer_name, lr)
        # every matrix (bottom-up, top-down, readout) on its own devices, written before learning; under
        # EG no weight may be written as exactly 0
        keep = optimizer_name == "eg"
        weights, w_chains = zip(*(chip.place(k, w, f"W{i}", keep) for i, w in enumerate(net.weights)), strict=True)
        feedback, f_chains = (
            zip(*(chip.place(k, f, f"B{i + 1}", keep) for i, f in enumerate(net.feedback)), strict=True)
            if net.feedback
            else ((), ())
        )
        readout, r_chain = chip.place(k, net.readout[0], "W_out", keep) if net.readout is not None else (None, ())
        self.net = net = EPNet(
            list(weights),
            net.biases,
            list(feedback) if net.feedback is not None else None,
            None if net.readout is None else (readout, net.readout[1]),
        )
        self.w_learn = [plasticity(rule, opt, *c) for c in w_chains]
        self.f_learn = [plasticity(rule, opt, *c) for c in f_chains]
        self.readout_learn = plasticity(delta(), opt, *r_chain)
        self.chain = (bias_optimizer(optimizer_name, lr),)  # biases live in the neurons, not on devices
        self.w_states = [pl.init(k, w) for pl, w in zip(self.w_learn, net.weights, strict=True)]
        self.b_states = [chain_init(k, self.chain, b) for b in net.biases]
        self.f_states = [pl.init(k, f) for pl, f in zip(self.f_learn, net.feedback or [], strict=True)]
        self.r_states = (
            None
            if net.readout is None
            else (self.readout_learn.init(k, net.readout[0]), chain_init(k, self.chain, net.readout[1]))
        )
        self.rng = chip.rng("random sign")  # signs of β for random_sign
        self.sizes = list(sizes)
        # the chip's neurons: fixed-pattern gain and offset per state layer (and readout)
        layer_sizes = [w.shape[0] for w in net.weights] + ([net.readout[0].shape[0]] if net.readout else [])
        chip.check_neurons({f"layer {i + 1}": n for i, n in enumerate(layer_sizes)})
        self.neurons = chip.neurons(layer_sizes)
        self.reads = chip.reads()  # every relaxation step reads every matrix
        self.synops_per_sample, self.neuron_updates_per_sample = self._operations()
        self.plastic_synapses = sum(int(np.prod(a.shape)) for a in self.parameters())

    def _operations(self) -> tuple:
        """Per sample ``(synaptic ops, neuron updates)``: the input drive once per phase, up and down
        drives of the layers above at every step, two outer products per layer for the contrast;
        every state neuron (and the readout, under cross-entropy) updates at every step."""
        p, net = self.p, self.net
        syn = [w.shape[0] * w.shape[1] for w in net.weights]
        readout_units = 0 if net.readout is None else net.readout[0].shape[0]
        readout = 0 if net.readout is None else readout_units * net.readout[0].shape[1]
        est = p["estimator"]
        n_nudged = {"one_sided": 1, "random_sign": 1, "symmetric": 2}.get(est, p["points"] // 2 + 1)
        steps = p["free_steps"] + p["nudge_steps"] * n_nudged
        cross_entropy = p["cost"] == "cross_entropy"
        per_step = 2 * sum(syn[1:]) + (2 * readout if cross_entropy else 0)
        units = sum(w.shape[0] for w in net.weights) + (readout_units if cross_entropy else 0)
        return ((1 + n_nudged) * syn[0] + steps * per_step + 2 * (1 + n_nudged) * sum(syn) + 2 * readout, steps * units)

    def _read_noise(self):
        """The noise of the devices' reads at one relaxation step, as a ``read_noise(states, x)`` hook for
        :func:`~bioplast.dynamics.relaxation.relax` (``None`` for exact reads).  Layer ``l`` reads its
        bottom-up matrix with ``s_{l−1}`` (``x`` for the first) and the top-down one (the same devices,
        transposed) with ``s_{l+1}``: in the output-referred form of
        :func:`~bioplast.hardware.reads.read_noise` its drive gets
        ``σ_read S (‖s_{l−1}‖² + ‖s_{l+1}‖²)^{1/2} ζ``, fresh ``ζ`` per step, sample and neuron.  The
        readout's read inside the cross-entropy nudge stays exact."""
        if self.reads is None:
            return None
        k = self.k

        def noise(states, x):
            read = self.reads.next(k)
            below = [x] + list(states[:-1])
            above = list(states[1:]) + [None]
            out = []
            for l, (s_in, s_up) in enumerate(zip(below, above, strict=True)):
                power = (s_in * s_in).sum(1) + (0 if s_up is None else (s_up * s_up).sum(1))
                out.append(row_scaled_normal(k, read.key(l), power**0.5 * read.scale, int(states[l].shape[1])))
            return out

        return noise

    def network(self) -> EPNet:
        """The network the chip relaxes: neuron ``i`` of a layer computes ``φ(g_i h_i + o_i)`` of its whole
        drive ``h_i`` (bottom-up, top-down and bias), so its bottom-up row, its row of the top-down
        matrix and its bias scale by ``g_i`` (the top-down matrix becomes explicit: ``g ⊙ Wᵀ`` is not
        a transpose), and the readout's logits are ``g ⊙ (W_o s_L + b_o) + o``.  The nudge is an external
        current and enters unscaled.  Mismatch makes the network non-symmetric: EP then measures the
        chip's own, non-energy dynamics (trained in the loop, as the MLP trainer does)."""
        net, mm = self.net, self.neurons
        if mm is None:
            return net
        weights = [mm.rows(l, w) for l, w in enumerate(net.weights)]
        biases = [mm.bias(l, b) for l, b in enumerate(net.biases)]
        down = net.feedback if net.feedback is not None else [w.T for w in net.weights[1:]]
        feedback = [mm.rows(l, f) for l, f in enumerate(down)]
        readout = net.readout
        if readout is not None:
            top = len(net.weights)
            readout = (mm.rows(top, readout[0]), mm.bias(top, readout[1]))
        return EPNet(weights, biases, feedback, readout)

    def directions(self, x, target) -> Directions:
        """The rule's update directions (≈ ``−∇L`` of the weights for the EP rules) on ``(x, target)``
        at the chip's network, its phases relaxed with a sign stream of their own (the training's is
        not touched); the exact gradient comes from an independent oracle
        (:func:`bioplast.analysis.alignment.gradient_alignment`)."""
        p, k = self.p, self.k
        net = self.network()
        ph = ep_phases(
            k,
            net,
            k.asarray(x),
            k.asarray(target),
            beta=p["beta"],
            free_steps=p["free_steps"],
            nudge_steps=p["nudge_steps"],
            activation=self.activation,
            estimator=p["estimator"],
            cost=p["cost"],
            dt=p["dt"],
            points=p["points"],
            rng=np.random.default_rng(1),
        )
        return Directions(
            [
                self.rule.update(k, c, s.rule, w)[0]
                for c, s, w in zip(ph.contrasts, self.w_states, net.weights, strict=True)
            ],
            None,
        )

    def free_phase(self, x):
        chip = self.network()
        zeros = [self.k.zeros((x.shape[0], w.shape[0])) for w in chip.weights]
        states, _ = relax(
            self.k,
            chip,
            x,
            zeros,
            self.p["free_steps"],
            self.activation,
            dt=self.p["dt"],
            read_noise=self._read_noise(),
        )
        return states

    def predict(self, x):
        return output(self.k, self.network(), self.free_phase(x))

    def train_batch(self, x, target) -> Step:
        k, p, net = self.k, self.p, self.net
        x, target = k.asarray(x), k.asarray(target)
        ph = ep_phases(
            k,
            self.network(),
            x,
            target,
            beta=p["beta"],
            free_steps=p["free_steps"],
            nudge_steps=p["nudge_steps"],
            activation=self.activation,
            estimator=p["estimator"],
            cost=p["cost"],
            dt=p["dt"],
            points=p["points"],
            rng=self.rng,
            read_noise=self._read_noise(),
        )
        loss = self._loss(ph.free_states[-1], target)
        homeo = p.get("homeostasis", 0.0)
        hw, hb = [None] * len(net.weights), [None] * len(ph.feedback_contrasts)
        if homeo:
            hw, hb = homeostatic_directions(k, net)
        weights, self.w_states = self._step(self.w_learn, ph.contrasts, net.weights, self.w_states, hw, homeo)
        feedback, self.f_states = self._step(
            self.f_learn, ph.feedback_contrasts, net.feedback or [], self.f_states, hb, homeo
        )
        biases, b_states = [], []
        for c, b, s in zip(ph.contrasts, net.biases, self.b_states, strict=True):
            u, s = chain_update(k, self.chain, bias_direction(k, c), s, b)
            biases.append(apply_updates(k, b, u))
            b_states.append(s)
        self.b_states = b_states
        readout = net.readout
        if readout is not None:
            # a network with a readout was built with its states, and its phases carry its signals
            assert self.r_states is not None and ph.readout is not None
            (ws, bs) = self.r_states
            w_o, ws = self.readout_learn.apply(k, ph.readout, ws, readout[0])
            u, bs = chain_update(k, self.chain, k.batch_mean(ph.readout.mod), bs, readout[1])
            readout, self.r_states = (w_o, apply_updates(k, readout[1], u)), (ws, bs)
        self.net = EPNet(weights, biases, feedback if net.feedback is not None else None, readout)
        return Step(loss, self.ops(int(x.shape[0]), outer_product_counts(_update_pairs(ph))))

    def _step(self, learners, contrasts, params, states, homeostatic, coef):
        """One plasticity step per matrix; the homeostatic direction (generalized EP)
        joins the rule's direction before the optimiser and the devices."""
        k = self.k
        new_p, new_s = [], []
        for learn, c, w, s, h in zip(learners, contrasts, params, states, homeostatic, strict=True):
            if h is None:
                w2, s2 = learn.apply(k, c, s, w)
            else:
                direction, rs = self.rule.update(k, c, s.rule, w)
                u, ts = chain_update(k, learn.transforms, direction + h * coef, s.transforms, w)
                w2, s2 = apply_updates(k, w, u), s._replace(rule=rs, transforms=ts)
            new_p.append(w2)
            new_s.append(s2)
        return new_p, new_s

    def _loss(self, top, target) -> float:
        k = self.k
        if self.net.readout is None:
            err = k.to_numpy(top - target)
            return float(0.5 * (err**2).sum(1).mean())
        logits = k.to_numpy(output(k, self.network(), [top])).astype(np.float64)
        logits -= logits.max(1, keepdims=True)
        logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
        return float(-(k.to_numpy(target) * logp).sum(1).mean())

    def state(self):
        """Everything that changes during training (see :mod:`bioplast.training.checkpoints`)."""
        reads = 0 if self.reads is None else self.reads.count
        return (self.net, self.w_states, self.b_states, self.f_states, self.r_states, self.rng, reads)

    def load_state(self, state) -> None:
        self.net, w, b, f, self.r_states, self.rng, reads = state
        self.w_states, self.b_states, self.f_states = list(w), list(b), list(f)
        if self.reads is not None:
            self.reads.count = int(reads)

    def arrays(self) -> dict:
        """Every parameter as a host array, for ``weights.npz``."""
        k, net = self.k, self.net
        out = {f"W{i}": k.to_numpy(w) for i, w in enumerate(net.weights)}
        out.update({f"b{i}": k.to_numpy(b) for i, b in enumerate(net.biases)})
        out.update({f"B{i + 1}": k.to_numpy(f) for i, f in enumerate(net.feedback or [])})
        if net.readout is not None:
            out.update({"W_out": k.to_numpy(net.readout[0]), "b_out": k.to_numpy(net.readout[1])})
        return out

    def parameters(self) -> list:
        net = self.net
        return [*net.weights, *(net.feedback or []), *(net.readout or ())]

    def parameter_names(self) -> list:
        """What each of :meth:`parameters` is, for messages: bottom-up ``W``, top-down ``B``, readout."""
        net = self.net
        return [
            *(f"W{i + 1} (bottom-up into layer {i + 1})" for i in range(len(net.weights))),
            *(f"B{i + 1} (top-down feedback)" for i in range(len(net.feedback or []))),
            *(f"readout {i}" for i in range(len(net.readout or ()))),
        ]


def _contrast_pairs(c) -> list:
    """``(pre, post)`` of every phase a contrast's update multiplies (an :class:`~bioplast.core.Oscillation`:
    every one of its contrasts)."""
    if isinstance(c, Oscillation):
        return [pair for inner in c.contrasts for pair in _contrast_pairs(inner)]
    return [(c.free.pre, c.free.post), (c.nudged.pre, c.nudged.post)]


def _update_pairs(ph) -> list:
    """The outer products of one EP step: two (or more) phases per matrix, the readout's delta rule."""
    pairs = [pair for c in (*ph.contrasts, *ph.feedback_contrasts) for pair in _contrast_pairs(c)]
    if ph.readout is not None:
        pairs.append((ph.readout.pre, ph.readout.mod))
    return pairs


@register_model("ep")
def _build(cfg, k, data) -> EPModel:
    return EPModel(
        k,
        cfg.make_rule(),
        [data.n_features, *cfg.hidden, data.n_classes],
        cfg.chip(),
        activation=cfg.activation or "tanh",
        optimizer_name=cfg.optimizer,
        lr=cfg.lr,
        batch_size=cfg.batch_size,
    )
