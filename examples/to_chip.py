"""From a trained rate network to a neuromorphic chip.

1. Train a ReLU MLP on digits with the backprop baseline.
2. Convert it to the integrate-and-fire network that approximates it (Rueckauer et al. 2017) and
   check that the spiking network classifies like the MLP; write it as a NIR graph and read it back.
3. Put a spiking network on a chip with mismatched neurons, noisy reads and a 16-bit state, and see
   what the chip does to its spikes.

Run:  python examples/to_chip.py
"""

import tempfile
from pathlib import Path

import numpy as np

from bioplast.data import load_task
from bioplast.data.encoders import poisson
from bioplast.deploy import on_substrate
from bioplast.deploy.conversion import convert_mlp, export_converted, import_converted, predict_converted
from bioplast.dynamics.spiking.engine import simulate
from bioplast.dynamics.spiking.network import Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.spiking.neurons import LIF
from bioplast.hardware import get_substrate
from bioplast.training import TrainConfig, train

data = load_task("digits", 0)
with tempfile.TemporaryDirectory() as tmp:
    train(TrainConfig(task="digits", rule="backprop", hidden=(64,), epochs=5, lr=0.05), out=tmp, progress=False)
    arrays = np.load(Path(tmp) / "weights.npz", allow_pickle=False)
    weights, biases = [arrays["W0"], arrays["W1"]], [arrays["b0"], arrays["b1"]]
    ann = (np.maximum(data.x_test @ weights[0].T + biases[0], 0) @ weights[1].T + biases[1]).argmax(1)
    print(f"MLP test accuracy {np.mean(ann == data.y_test):.3f}")
    for reset in ("subtract", "zero"):
        conv = convert_mlp(weights, biases, data.x_train, reset=reset)
        for steps in (10, 100):
            snn = predict_converted(conv, data.x_test, steps)
            print(
                f"IF network, reset {reset:8s}, {steps:3d} steps: accuracy {np.mean(snn == data.y_test):.3f}, "
                f"agrees with the MLP on {np.mean(snn == ann):.3f}"
            )
    path = Path(tmp) / "mlp.nir"
    export_converted(conv, path)  # reset "zero": NIR's IF
    back = import_converted(path)
    same = np.array_equal(predict_converted(back, data.x_test, 100), predict_converted(conv, data.x_test, 100))
    print(f"NIR round trip ({path.name}, {path.stat().st_size} bytes): same predictions: {same}")

dt = 1e-3
rng = np.random.default_rng(0)
net = SpikingNetwork(
    [SpikeSource("x", 40)],
    [Population("p", 20, LIF(tau_mem=20e-3, tau_syn=5e-3, v_thresh=1.0, resistance=2.0))],
    [Projection("x", "p", "syn", rng.uniform(0, 0.3, (20, 40)))],
    dt=dt,
)
x = {"x": poisson(np.full((1, 40), 30.0), 1000, dt, seed=1)}
chips = {
    "ideal": net,
    "mismatch 0.2": on_substrate(net, get_substrate("ideal", {"gain_mismatch": 0.2, "offset_mismatch": 0.2})),
    "read noise 0.05": on_substrate(net, get_substrate("ideal", {"read_noise": 0.05})),
    "8-bit weights, 16-bit state": on_substrate(net, get_substrate("fixed-point", {"state_bits": 16})),
}
for name, chip in chips.items():
    counts = simulate(chip, x, backend="numpy")[1].counts["p"][0]
    print(f"{name:28s} spikes per neuron: mean {counts.mean():5.1f}, spread {counts.std():4.1f}")
