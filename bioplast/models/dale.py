"""Dale-constrained networks wired for training (the backprop baseline on E/I architectures).

``network="dann"``: :func:`bioplast.dynamics.dann.init_dann` layers; every
non-negative parameter (``W_EX, W_IX, W_EI, g``) moves by the chosen
optimiser and, unless it is ``eg`` (which keeps signs by construction), is
projected back to ≥ 0 — the clamp of Cornford et al.; their gradient
corrections scale the inhibitory parameters' directions first.
``network="ei_mlp"``: an MLP with column signs (a fraction of every
presynaptic population inhibitory), log-normal magnitudes, the same
optimiser-plus-projection choice.

Gradients come from torch autograd through the same forward pass used for
prediction (the non-local backprop signal, as in :mod:`bioplast.rules.backprop`).

With a ``device`` profile every synaptic matrix (``W_EX, W_IX, W_EI``; the E/I
MLP's ``W``) is programmed onto its own devices and its updates go through
the profile's transforms after the optimiser and the sign projection, so
device noise on a bipolar substrate can flip a sign the optimiser kept (a
one-sided substrate clips inhibitory weights to its floor); gains, ``α``
and biases stay exact, in the neurons.  Neuron mismatch (``gain_mismatch``,
``offset_mismatch``): every principal neuron computes ``φ(g z + o)`` of its
drive and every DANN interneuron ``g_I z_I + o_I``, fixed per chip, and the
gradients are taken through that forward pass (training in the loop, as the
MLP trainer does).
"""

from __future__ import annotations

import numpy as np

from bioplast.backends import get_backend
from bioplast.core import apply_updates, chain_init, chain_update
from bioplast.dynamics.activations import activation as _activation
from bioplast.dynamics.autograd import AutogradBridge
from bioplast.dynamics.dann import DANN_CORRECTIONS, DANNLayer, column_signs, dann_forward, init_dann
from bioplast.dynamics.feedforward import torch_loss
from bioplast.geometry import bias_optimizer, lognormal_signed, optimizer, sign_frozen
from bioplast.hardware.chip import Chip, _like
from bioplast.models.base import Directions, Plan, RateModel, Step, register_model
from bioplast.optional import require

NETWORKS = ("mlp", "dann", "ei_mlp")
_HOST = get_backend("numpy", dtype="float64")  # draws read noise on the host (the same on every backend)


class DaleModel(RateModel):
    """A Dale-constrained network (``network``: ``dann`` or ``ei_mlp``) of layer sizes ``sizes`` on
    ``chip``, trained by ``rule`` (backprop; gradients from torch autograd)."""

    def __init__(
        self,
        k,
        rule,
        sizes,
        chip: Chip,
        *,
        activation: str = "relu",
        optimizer_name: str = "sgd",
        lr: float = 0.05,
        loss: str = "cross_entropy",
        network: str = "dann",
        inhibitory_fraction: float = 0.1,
        batch_size: int = 32,
    ):
        self.k, self.rule, self.sizes, self.loss, self.chip = k, rule, list(sizes), loss, chip
        self.plan = Plan(batch_size)
        seed, self.eg = chip.seed, optimizer_name == "eg"
        self.act = _activation(activation)
        self.network = network
        self.params: list = []  # backend arrays
        self.chains: list[tuple] = []  # one transform chain per parameter
        self.scales: list[float] = []
        if network == "dann":
            layers = init_dann(k, sizes, seed, inhibitory_fraction)
            for p in layers:
                ne, d = p.wex.shape
                for name in p._fields:
                    scale, nonneg = DANN_CORRECTIONS[name]
                    self._add(getattr(p, name), scale(ne, d), self._transforms(optimizer_name, lr, nonneg))
            self._layout = [len(p._fields) for p in layers]
        else:
            for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
                signs = column_signs(n_in, inhibitory_fraction)
                w = lognormal_signed(
                    (n_out, n_in), signs, sigma=0.5, scale=np.sqrt(2.0 / n_in) * np.exp(-0.125), seed=[seed, l]
                )
                self._add(k.asarray(w), 1.0, self._transforms(optimizer_name, lr, True))
                self._add(k.zeros((n_out,)), 1.0, self._transforms(optimizer_name, lr, False))
        self.states = [chain_init(k, c, p) for c, p in zip(self.chains, self.params, strict=True)]
        # the chip's neurons: principal neurons of every layer, then DANN's interneurons; fixed per chip
        outs = list(sizes[1:])
        inter = [p.wix.shape[0] for p in layers] if network == "dann" else []
        chip.check_neurons({f"layer {i + 1}": n for i, n in enumerate(outs)})
        drawn = chip.neurons(outs + inter)
        self.mismatch = (
            None if drawn is None else [(drawn[l], drawn[len(outs) + l] if inter else None) for l in range(len(outs))]
        )
        self.reads = chip.reads()  # each forward pass reads every matrix once, with fresh read noise
        synapses = sum(int(np.prod(p.shape)) for p in self.params if p.ndim == 2)
        self.synops_per_sample = 3 * synapses  # forward, backward, update
        self.neuron_updates_per_sample = 2 * sum(sizes[1:])  # forward and backward (interneurons not counted)
        self.plastic_synapses = synapses

    def _add(self, arr, scale, chain):
        if arr.ndim == 2:  # synaptic matrices sit on devices, written before learning
            arr, transforms = self.chip.place(self.k, arr, f"P{len(self.params)}", keep_sign=self.eg)
            chain = chain + transforms
        self.params.append(arr)
        self.scales.append(float(scale))  # a numpy float64 scale would promote float32 updates (NEP 50)
        self.chains.append(chain)

    @staticmethod
    def _transforms(name, lr, constrained):
        """EG keeps every sign by itself; additive and Adam steps are projected back onto
        the signs the parameter was initialised with (≥ 0 for DANN, column signs for E/I)."""
        if not constrained:
            return (bias_optimizer(name, lr),)
        if name == "eg":
            return (optimizer(name, lr),)
        return (optimizer(name, lr), sign_frozen())

    def _forward(self, xp, params, x, read=None):
        """The network's output for ``x``; ``read(m, h, W)`` computes each product ``h Wᵀ`` (default: as
        the devices read it in this pass, :meth:`_reader`; a measurement passes its own)."""
        mm = self._mismatch_like(xp, x)
        read = read or self._reader(xp, x)
        if self.network == "dann":
            layers, i = [], 0
            for n in self._layout:
                layers.append(DANNLayer(*params[i : i + n]))
                i += n
            return dann_forward(xp, layers, x, self.act, mm, read)
        h = x
        n = len(params) // 2
        for l in range(n):
            z = read(l, h, params[2 * l]) + params[2 * l + 1]
            if mm is not None:  # the chip's neuron l·i computes φ(g_i z_i + o_i)
                z = mm[l][0][0] * z + mm[l][0][1]
            h = z if l == n - 1 else self.act(xp, z)
        return h

    def _reader(self, xp, x):
        """``read(m, h, W)``: ``h Wᵀ`` as matrix ``m``'s devices read it in this forward pass — plus
        ``σ_read S ‖h_b‖ ζ_b`` per sample, the exact output-referred form of noisy reads
        (:func:`bioplast.hardware.reads.read_noise`), drawn from the counter-based stream of
        ``(seed, pass, m)`` and constant for autograd (backprop's backward pass treats the reads'
        noise as fixed, as the MLP trainer does)."""
        if self.reads is None:
            return lambda m, h, w: h @ w.T
        read = self.reads.next(_HOST)

        def noisy(m, h, w):
            out = h @ w.T
            zeta = _like(_HOST.counter_normal(read.key(m), tuple(out.shape)), out)
            norm = ((h * h).sum(1) ** 0.5) if xp is np else (h.detach() * h.detach()).sum(1) ** 0.5
            return out + zeta * (norm * read.scale)[:, None]

        return noisy

    def _mismatch_like(self, xp, x):
        """The chip's gains and offsets as arrays of ``x``'s library, dtype and device (``None``: matched)."""
        if self.mismatch is None:
            return None
        return [
            tuple(None if pair is None else (_like(pair[0], x), _like(pair[1], x)) for pair in layer)
            for layer in self.mismatch
        ]

    def predict(self, x):
        return self._forward(self.k.xp, self.params, x)

    def _gradients(self, x, target):
        """``(∇L per parameter as backend arrays, loss)`` by torch autograd through the forward pass."""
        torch = require("torch", "the Dale model's gradients")

        with AutogradBridge(self.k, x) as bridge, torch.enable_grad():
            t = bridge.to_torch
            leaves = [t(p).detach().requires_grad_(True) for p in self.params]
            value = torch_loss(self.loss)(self._forward(torch, leaves, t(x)), t(target))
            grads = torch.autograd.grad(value, leaves)
            return [bridge.to_backend(g) for g in grads], float(value.detach())

    def train_batch(self, x, target) -> Step:
        k = self.k
        x, target = k.asarray(x), k.asarray(target)
        grads, loss = self._gradients(x, target)
        new_p, new_s = [], []
        for p, g, chain, state, scale in zip(self.params, grads, self.chains, self.states, self.scales, strict=True):
            update, state = chain_update(k, chain, g * (-scale), state, p)
            new_p.append(apply_updates(k, p, update))
            new_s.append(state)
        self.params, self.states = new_p, new_s
        return Step(loss, self.ops(int(x.shape[0])))

    def directions(self, x, target) -> Directions:
        """The update direction before the optimiser, ``−c ⊙ ∇L`` (DANN's corrections ``c`` rescale
        the inhibitory parameters, Cornford et al. 2021; 1 elsewhere), beside ``−∇L``, over the
        synaptic matrices: aligned for the E/I MLP, turned away where DANN's corrections act."""
        k = self.k
        grads, _ = self._gradients(k.asarray(x), k.asarray(target))
        matrices = [(g, scale) for g, scale, p in zip(grads, self.scales, self.params, strict=True) if p.ndim == 2]
        return Directions([g * -scale for g, scale in matrices], [g * -1.0 for g, _ in matrices])

    def state(self):
        """Everything that changes during training (see :mod:`bioplast.training.checkpoints`)."""
        return (self.params, self.states, 0 if self.reads is None else self.reads.count)

    def load_state(self, state) -> None:
        self.params, self.states = list(state[0]), list(state[1])
        if self.reads is not None:
            self.reads.count = int(state[2])

    def arrays(self) -> dict:
        return {f"P{i}": self.k.to_numpy(p) for i, p in enumerate(self.params)}

    def parameters(self) -> list:
        return list(self.params)


@register_model("dale")
def _build(cfg, k, data) -> DaleModel:
    return DaleModel(
        k,
        cfg.make_rule(),
        [data.n_features, *cfg.hidden, data.n_classes],
        cfg.chip(),
        activation=cfg.activation or "relu",
        optimizer_name=cfg.optimizer,
        lr=cfg.lr,
        loss=cfg.loss,
        network=cfg.network,
        inhibitory_fraction=cfg.inhibitory_fraction,
        batch_size=cfg.batch_size,
    )
