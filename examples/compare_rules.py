"""Compare rules on a real dataset from Python: the API behind `bioplast train`.

Each record carries, besides accuracy and time, the estimated training energy
(the substrate's per-operation figures times the run's operation counts; the
ideal substrate prices a digital float32 processor) and the cosine between the
rule's update and backprop's gradient (NaN for Hebbian readouts, which follow
no loss's gradient).

Run:  python examples/compare_rules.py [--task mnist5k] [--epochs 5] [--substrate loihi2-like]
"""

import argparse

from bioplast.training import TrainConfig, train

parser = argparse.ArgumentParser()
parser.add_argument("--task", default="digits")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--backend", default="numba")
parser.add_argument("--substrate", default="ideal", help="device profile (bioplast substrates)")
args = parser.parse_args()

print(f"{'rule':<20} {'test accuracy':>13} {'seconds':>8} {'energy (µJ)':>11} {'alignment':>9}")
for rule in ("backprop", "feedback_alignment", "node_perturbation", "delta", "oja"):
    records = train(
        TrainConfig(rule=rule, task=args.task, backend=args.backend, epochs=args.epochs, substrate=args.substrate),
        progress=False,
    )
    last = records[-1]
    print(
        f"{rule:<20} {last['test_acc']:>13.3f} {last['wall_time_s']:>8.2f} {last['energy_J'] * 1e6:>11.1f} "
        f"{last['grad_alignment']:>9.3f}"
    )
