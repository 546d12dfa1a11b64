"""Dale's law in a few lines: sign-preserving learning, the geometry test, E/I networks.

1. The same backprop MLP trained with GD and with exponentiated gradient (EG):
   EG flips no sign, and the geometry test recovers which geometry was used.
2. A DANN (separate excitatory and inhibitory units, Cornford et al. 2021)
   learns digits as well as the unconstrained MLP.

Run:  python examples/dale.py [--epochs 3]
"""

import argparse

from bioplast.experiments.dale import compare_geometries, dale_networks

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()

rows, _ = compare_geometries(task="digits", epochs=args.epochs, hidden=(64,))
print("geometry         test acc  sign flips  geometry test names")
for r in rows:
    print(f"{r['geometry']:<16} {r['test_acc']:.3f}     {r['sign_flips']:.4f}      {r['geometry_test']}")

print("\nnetwork  test acc (backprop, digits)")
for r in dale_networks(task="digits", epochs=args.epochs, hidden=(64,)):
    print(f"{r['network']:<8} {r['test_acc']:.3f}")
