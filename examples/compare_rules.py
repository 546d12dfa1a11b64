"""Compare rules on a real dataset from Python: the API behind `bioplast train`.

Run:  python examples/compare_rules.py [--task mnist5k] [--epochs 5]
"""
import argparse

from bioplast.train import TrainConfig, train

parser = argparse.ArgumentParser()
parser.add_argument("--task", default="digits")
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--backend", default="numba")
args = parser.parse_args()

print(f"{'rule':<10} {'test accuracy':>13} {'seconds':>8}")
for rule in ("backprop", "delta", "oja", "bcm"):
    records = train(TrainConfig(rule=rule, task=args.task, backend=args.backend, epochs=args.epochs),
                    progress=False)
    last = records[-1]
    print(f"{rule:<10} {last['test_acc']:>13.3f} {last['wall_time_s']:>8.2f}")
