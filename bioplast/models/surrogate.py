r"""The gradient-trained spiking baseline: BPTT with a surrogate spike derivative (snnTorch).

Every spiking local rule is compared with this network: Poisson-coded
pixels (rate ``pixel · max_rate``, step ``dt``) → ``n_hidden`` LIF neurons →
``n_classes`` LIF neurons, both ``snntorch.Leaky`` (``U[t] = βU[t−1] + WX[t] −
S[t−1]θ``) with the arctan surrogate ``∂S/∂U ≈ 1/(1 + (πU)²)`` (Fang et al.
2021), trained by backpropagation through time on the cross-entropy of the
output spike counts (Neftci, Mostafa & Zenke 2019, "Surrogate gradient
learning in spiking neural networks", IEEE Signal Process. Mag. 36:51).
For Diehl & Cook the hidden layer has the same size and input coding; the
lateral inhibition is replaced by a trained readout layer.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bioplast.data.dataset import Dataset
from bioplast.errors import ConfigError
from bioplast.hardware.energy import OPS
from bioplast.models.base import LEARNING_OPS, Plan, Step, register_model
from bioplast.optional import require
from bioplast.validate import positive, positive_int


class SurrogateResult(NamedTuple):
    test_accuracy: float
    train_accuracy: list  # per epoch
    seconds: float


class SurrogateSNN:
    """The network, its Adam optimiser and its input-coding stream; one :meth:`train_epoch` at a time.

    :meth:`state` / :meth:`set_state` give everything that changes during training as plain
    arrays and a generator (for :mod:`bioplast.training.checkpoints`); :attr:`ops` counts the operations
    of training so far (``spikes``, ``synops``, ``neuron_updates``, ``weight_writes``): per sample
    and time step the dense drive of both layers forward, the readout's error backward and both
    layers' gradients; every neuron updates forward and backward; every weight is written once
    per batch."""

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        n_hidden: int = 400,
        steps: int = 25,
        batch: int = 128,
        lr: float = 2e-3,
        beta: float = 0.9,
        max_rate: float = 200.0,
        dt: float = 1e-3,
        seed: int = 0,
    ):
        snn = require("snntorch", "the surrogate-gradient spiking network")
        torch = require("torch", "the surrogate-gradient spiking network")
        surrogate = require("snntorch.surrogate", "the surrogate-gradient spiking network")

        for name, v in (("n_hidden", n_hidden), ("steps", steps), ("batch", batch)):
            positive_int(name, v)
        positive("lr", lr), positive("max_rate", max_rate), positive("dt", dt)
        if max_rate * dt > 1:
            raise ConfigError(f"max_rate {max_rate} Hz exceeds 1/dt = {1 / dt:g} Hz")
        self.torch, self.steps, self.batch, self.p_spike = torch, steps, batch, max_rate * dt
        torch.manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        spike_grad = surrogate.atan()
        self.fc1 = torch.nn.Linear(n_features, n_hidden)
        self.lif1 = snn.Leaky(beta=beta, spike_grad=spike_grad)
        self.fc2 = torch.nn.Linear(n_hidden, n_classes)
        self.lif2 = snn.Leaky(beta=beta, spike_grad=spike_grad)
        self.params = list(self.fc1.parameters()) + list(self.fc2.parameters())
        self.opt = torch.optim.Adam(self.params, lr=lr)
        self.sizes = (n_features, n_hidden, n_classes)
        self.ops = dict.fromkeys(OPS + LEARNING_OPS, 0)

    def _run(self, x: np.ndarray):
        """``(output spike counts [B, C], spikes of all layers)`` for Poisson-coded ``x[B, D]``; the
        counts are differentiable, the spike total (for the operation count) is a detached scalar."""
        torch = self.torch
        spikes = torch.as_tensor(self.rng.random((self.steps,) + x.shape, dtype=np.float32) < x * self.p_spike)
        mem1 = torch.zeros(len(x), self.sizes[1])
        mem2 = torch.zeros(len(x), self.sizes[2])
        total, fired = 0, spikes.sum()
        for t in range(self.steps):
            s1, mem1 = self.lif1(self.fc1(spikes[t].float()), mem1)
            s2, mem2 = self.lif2(self.fc2(s1), mem2)
            total = total + s2
            fired = fired + s1.detach().sum().long() + s2.detach().sum().long()  # exact integer counts
        return total, fired

    def train_batch(self, x: np.ndarray, y: np.ndarray) -> tuple:
        """One Adam step of BPTT on the batch ``x[B, D]`` with class labels ``y[B]``:
        ``(loss, operation counts of the step)``."""
        torch = self.torch
        out, fired = self._run(x)
        loss = torch.nn.functional.cross_entropy(out, torch.as_tensor(y))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        d, h, c = self.sizes
        n = len(x) * self.steps
        # BPTT's weight gradient sums one product per synapse, sample and time step; autograd does
        # not skip zero operands, so every product counts as effective
        return float(loss.detach()), {
            "synops": n * (2 * d * h + 3 * h * c),
            "neuron_updates": n * 2 * (h + c),
            "spikes": int(fired),
            "weight_writes": d * h + h * c,
            "plasticity_dense": n * (d * h + h * c),
            "plasticity_effective": n * (d * h + h * c),
            "trace_updates": 0,
        }

    def train_epoch(self, x_train: np.ndarray, y_train: np.ndarray) -> tuple:
        """One pass of BPTT over the shuffled training set: ``(mean loss, train accuracy)``."""
        order = self.rng.permutation(len(x_train))
        losses = []
        for a in range(0, len(order), self.batch):
            idx = order[a : a + self.batch]
            loss, ops = self.train_batch(x_train[idx], y_train[idx])
            losses.append(loss)
            self.ops = {key: self.ops.get(key, 0) + ops[key] for key in ops}
        return float(np.mean(losses)), float(np.mean(self.predict(x_train) == y_train))

    def predict(self, x: np.ndarray, chunk: int = 500) -> np.ndarray:
        with self.torch.no_grad():
            return np.concatenate([self._run(x[a : a + chunk])[0].argmax(1).numpy() for a in range(0, len(x), chunk)])

    def state(self):
        moments = []
        for p in self.params:
            st = self.opt.state.get(p, {})
            moments.append(
                (
                    st.get("exp_avg", self.torch.zeros_like(p)).detach().clone(),
                    st.get("exp_avg_sq", self.torch.zeros_like(p)).detach().clone(),
                )
            )
        step = int(self.opt.state[self.params[0]]["step"]) if self.params[0] in self.opt.state else 0
        return ([p.detach().clone() for p in self.params], moments, step, self.rng, dict(self.ops))

    def set_state(self, state) -> None:
        weights, moments, step, self.rng, ops = state
        self.ops = dict(ops)
        with self.torch.no_grad():
            for p, w in zip(self.params, weights, strict=True):
                p.copy_(w)
        if step:
            for p, (m, v) in zip(self.params, moments, strict=True):
                self.opt.state[p] = {
                    "step": self.torch.tensor(float(step)),
                    "exp_avg": m.clone(),
                    "exp_avg_sq": v.clone(),
                }


def train_surrogate_snn(
    data: Dataset,
    n_hidden: int = 400,
    steps: int = 25,
    epochs: int = 3,
    batch: int = 128,
    lr: float = 2e-3,
    beta: float = 0.9,
    max_rate: float = 200.0,
    dt: float = 1e-3,
    seed: int = 0,
    progress: bool = False,
) -> SurrogateResult:
    """Train the surrogate-gradient SNN on ``data``; same ``seed`` → same result (CPU)."""
    import time

    from tqdm.auto import tqdm

    positive_int("epochs", epochs)
    net = SurrogateSNN(data.n_features, data.n_classes, n_hidden, steps, batch, lr, beta, max_rate, dt, seed)
    t0 = time.perf_counter()
    train_acc = [
        net.train_epoch(data.x_train, data.y_train)[1]
        for _ in tqdm(range(epochs), desc="surrogate-gradient SNN", unit="epoch", disable=not progress)
    ]
    pred = net.predict(data.x_test)
    return SurrogateResult(float((pred == data.y_test).mean()), train_acc, time.perf_counter() - t0)


class SurrogateModel:
    """The surrogate-gradient SNN as a :class:`~bioplast.models.base.Model`: shuffled minibatches of
    :attr:`SurrogateSNN.batch`, one Adam step each; ``loss`` is the batch's cross-entropy."""

    kind = "spiking"

    def __init__(self, n_features: int, n_classes: int, n_hidden: int, lr: float, seed: int, samples=None):
        self.net = SurrogateSNN(n_features, n_classes, n_hidden=n_hidden, lr=lr, seed=seed)
        self.plan = Plan(self.net.batch, shuffle=True, samples=samples)
        self.sizes = list(self.net.sizes)

    def train_batch(self, x, target) -> Step:
        loss, ops = self.net.train_batch(np.asarray(x, dtype=np.float64), np.asarray(target).argmax(1))
        return Step(loss, ops)

    def accuracies(self, data) -> tuple:
        n = len(data.x_train) if self.plan.samples is None else min(self.plan.samples, len(data.x_train))
        x, y = data.x_train[:n].astype(np.float64), data.y_train[:n]
        return (
            float(np.mean(self.net.predict(x) == y)),
            float(np.mean(self.net.predict(data.x_test.astype(np.float64)) == data.y_test)),
        )

    def state(self):
        return self.net.state()

    def load_state(self, state) -> None:
        self.net.set_state(state)

    def arrays(self) -> dict:
        return {f"P{i}": p.detach().numpy() for i, p in enumerate(self.net.params)}

    def parameters(self) -> list:
        return [p.detach().numpy() for p in self.net.params]

    def directions(self, x, target) -> None:
        return None  # the surrogate gradient is not the true one: no reference to align with


@register_model("surrogate")
def _build(cfg, k, data) -> SurrogateModel:
    return SurrogateModel(data.n_features, data.n_classes, cfg.n_neurons, cfg.lr, cfg.seed, cfg.train_samples)
