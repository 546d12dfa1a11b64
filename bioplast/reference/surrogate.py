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

from ..data.dataset import Dataset
from ..validate import positive, positive_int


class SurrogateResult(NamedTuple):
    test_accuracy: float
    train_accuracy: list   # per epoch
    seconds: float


def train_surrogate_snn(data: Dataset, n_hidden: int = 400, steps: int = 25, epochs: int = 3, batch: int = 128,
                        lr: float = 2e-3, beta: float = 0.9, max_rate: float = 200.0, dt: float = 1e-3,
                        seed: int = 0, progress: bool = False) -> SurrogateResult:
    """Train the surrogate-gradient SNN on ``data``; same ``seed`` → same result (CPU)."""
    import time

    import snntorch as snn
    import torch
    from snntorch import surrogate
    from tqdm.auto import tqdm

    for name, v in (("n_hidden", n_hidden), ("steps", steps), ("epochs", epochs), ("batch", batch)):
        positive_int(name, v)
    lr, max_rate, dt = positive("lr", lr), positive("max_rate", max_rate), positive("dt", dt)
    if max_rate * dt > 1:
        from ..errors import ConfigError

        raise ConfigError(f"max_rate {max_rate} Hz exceeds 1/dt = {1 / dt:g} Hz")
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    spike_grad = surrogate.atan()
    fc1 = torch.nn.Linear(data.n_features, n_hidden)
    lif1 = snn.Leaky(beta=beta, spike_grad=spike_grad)
    fc2 = torch.nn.Linear(n_hidden, data.n_classes)
    lif2 = snn.Leaky(beta=beta, spike_grad=spike_grad)
    params = list(fc1.parameters()) + list(fc2.parameters())
    opt = torch.optim.Adam(params, lr=lr)

    def counts(x: np.ndarray):
        spikes = torch.as_tensor(rng.random((steps,) + x.shape, dtype=np.float32) < x * (max_rate * dt))
        mem1 = torch.zeros(len(x), n_hidden)
        mem2 = torch.zeros(len(x), data.n_classes)
        total = 0
        for t in range(steps):
            s1, mem1 = lif1(fc1(spikes[t].float()), mem1)
            s2, mem2 = lif2(fc2(s1), mem2)
            total = total + s2
        return total

    t0 = time.perf_counter()
    train_acc = []
    for _ in tqdm(range(epochs), desc="surrogate-gradient SNN", unit="epoch", disable=not progress):
        order = rng.permutation(len(data.x_train))
        correct = 0
        for a in range(0, len(order), batch):
            idx = order[a:a + batch]
            out = counts(data.x_train[idx])
            y = torch.as_tensor(data.y_train[idx])
            loss = torch.nn.functional.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            correct += int((out.argmax(1) == y).sum())
        train_acc.append(correct / len(order))
    with torch.no_grad():
        pred = np.concatenate([counts(data.x_test[a:a + 500]).argmax(1).numpy()
                               for a in range(0, len(data.x_test), 500)])
    return SurrogateResult(float((pred == data.y_test).mean()), train_acc, time.perf_counter() - t0)
