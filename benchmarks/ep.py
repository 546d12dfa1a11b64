"""EP training speed: bioplast's backends against a reference-style PyTorch EP, in one run.

Configuration (Laborieux et al. 2021, ``check/train_mnist.sh``): MNIST-5k
(4,000 training digits), 784-512-10, σ(4(x − ½)) activation, Adam 5e-4,
β = 0.1 one-sided, 30 free + 10 nudged steps, batch 50, squared error.

The baseline is the published algorithm written the way its reference code
writes it: the network state is a list of tensors and every relaxation step
evaluates the primitive function Φ = Σ s_lᵀ(W_l s_{l−1} + b_l) and takes
``autograd.grad(Φ, s)`` — recomputing every layer's input drive, including
the constant 784×512 product, at every step — and the update is
``backward()`` of ``(Φ(s^β) − Φ(s^0))/β`` into ``torch.optim.Adam``.  It runs
with torch's default threads; bioplast's backends run through
:class:`bioplast.models.ep.EPModel`, exactly what ``bioplast train`` runs.

Printed and written to ``benchmarks/results/ep.{json,md}``: seconds per
training epoch (80 batches, evaluation excluded; the faster of two epochs),
speed-up over the baseline, test accuracy after the two epochs (same init,
same batches: the algorithms must agree), and the relaxation's achieved
GFLOP/s as a fraction of a float32 matmul measured in the same run.

Run:  python benchmarks/ep.py
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from common import matmul_gflops, write_report  # noqa: E402

from bioplast.backends import get_backend  # noqa: E402
from bioplast.data import load_task, one_hot  # noqa: E402
from bioplast.dynamics import init_mlp  # noqa: E402
from bioplast.hardware import Chip  # noqa: E402
from bioplast.models.ep import EPModel  # noqa: E402
from bioplast.rules import eqprop  # noqa: E402

SIZES = [784, 512, 10]
BATCH, BETA, T_FREE, T_NUDGE, LR = 50, 0.1, 30, 10, 5e-4
EPOCHS = 2  # timed epochs per implementation; the faster one is reported (noise only adds time)


def reference_epoch(params, batches, xtest, ytest):
    """One epoch of the reference-style implementation; returns (seconds, test accuracy)."""
    import torch

    ws = [torch.nn.Parameter(torch.tensor(w)) for w in params.weights]
    bs = [torch.nn.Parameter(torch.tensor(b)) for b in params.biases]
    opt = torch.optim.Adam(ws + bs, lr=LR)

    def act(v):
        return torch.sigmoid(4 * (v - 0.5))

    def phi(x, s, y=None, beta=0.0):
        total, below = 0.0, x
        for w, b, layer in zip(ws, bs, s, strict=True):
            total = total + (layer * (below @ w.T + b)).sum()
            below = layer
        if beta:
            total = total - beta * 0.5 * ((s[-1] - y) ** 2).sum()
        return total

    def relax(x, s, steps, y=None, beta=0.0):
        for _ in range(steps):
            g = torch.autograd.grad(phi(x, s, y, beta), s)
            s = [act(a).detach().requires_grad_(True) for a in g]
        return s

    seconds = []
    for _ in range(EPOCHS):
        t0 = time.perf_counter()
        for x, y in batches:
            x, y = torch.tensor(x), torch.tensor(y)
            s = [torch.zeros(x.shape[0], w.shape[0], requires_grad=True) for w in ws]
            free = relax(x, s, T_FREE)
            nudged = relax(x, free, T_NUDGE, y, BETA)
            opt.zero_grad()
            delta = (phi(x, [a.detach() for a in nudged]) - phi(x, [a.detach() for a in free])) / (-BETA)
            (delta / x.shape[0]).backward()
            opt.step()
        seconds.append(time.perf_counter() - t0)
    with torch.no_grad():
        x = torch.tensor(xtest)
        s = [torch.zeros(x.shape[0], w.shape[0], requires_grad=True) for w in ws]
        with torch.enable_grad():
            out = relax(x, s, T_FREE)[-1]
    return min(seconds), float((out.argmax(1).numpy() == ytest).mean())


def bioplast_epoch(backend, batches, xtest, ytest, seed):
    k = get_backend(backend, dtype="float32")
    rule = eqprop(beta=BETA, free_steps=T_FREE, nudge_steps=T_NUDGE, estimator="one_sided")
    model = EPModel(k, rule, SIZES, Chip(None, seed), activation="sigmoid4", optimizer_name="adam", lr=LR)
    dev = [(k.asarray(x), k.asarray(y)) for x, y in batches]
    model.train_batch(*dev[0])  # warm-up: numba compilation, allocator
    model = EPModel(k, rule, SIZES, Chip(None, seed), activation="sigmoid4", optimizer_name="adam", lr=LR)
    seconds = []
    for _ in range(EPOCHS):
        t0 = time.perf_counter()
        for x, y in dev:
            model.train_batch(x, y)
        seconds.append(time.perf_counter() - t0)
    out = k.to_numpy(model.predict(k.asarray(xtest)))
    return min(seconds), float((out.argmax(1) == ytest).mean())


def relaxation_flops(batches) -> float:
    """Useful float ops per epoch: input drive once per phase, the 512×10 layer
    up and down every step, activation ignored."""
    (d, h, c), b = SIZES, BATCH
    per_batch = 2 * (2 * b * d * h) + (T_FREE + T_NUDGE) * 2 * (2 * b * h * c)
    return per_batch * len(batches)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    data = load_task("mnist5k", args.seed)
    targets = one_hot(data.y_train, 10).astype(np.float32)
    order = np.random.default_rng(args.seed).permutation(len(data.x_train))
    batches = [(data.x_train[order[i : i + BATCH]], targets[order[i : i + BATCH]]) for i in range(0, len(order), BATCH)]
    params = init_mlp(get_backend("numpy", dtype="float32"), SIZES, args.seed, scheme="torch")
    peak = matmul_gflops()
    print(f"float32 matmul in this run: {peak:.1f} GFLOP/s; one epoch = {len(batches)} batches of {BATCH}")
    results = {"reference-torch-autograd": reference_epoch(params, batches, data.x_test, data.y_test)}
    for backend in ("numba", "numpy", "torch"):
        results[f"bioplast-{backend}"] = bioplast_epoch(backend, batches, data.x_test, data.y_test, args.seed)
    flops = relaxation_flops(batches)
    base = results["reference-torch-autograd"][0]
    rows = []
    print(f"{'implementation':<28}{'s/epoch':>10}{'× ref':>8}{'test acc':>10}{'GFLOP/s':>9}{'% matmul':>10}")
    for name, (sec, acc) in results.items():
        g = flops / sec / 1e9
        rows.append(
            {
                "implementation": name,
                "seconds_per_epoch": sec,
                "speedup_vs_reference": base / sec,
                "test_acc_after_epoch": acc,
                "relaxation_gflops": g,
                "fraction_of_matmul": g / peak,
            }
        )
        print(f"{name:<28}{sec:>10.3f}{base / sec:>8.2f}{acc:>10.4f}{g:>9.2f}{100 * g / peak:>9.1f}%")
    md = [
        "# EP training speed",
        "",
        "MNIST-5k, 784-512-10, sigmoid4, Adam 5e-4, β = 0.1 one-sided, 30 + 10 steps, batch 50, float32; "
        f"one epoch = {len(batches)} batches, evaluation excluded, faster of 2 epochs. "
        "Float32 matmul in the same run: "
        f"{peak:.1f} GFLOP/s. GFLOP/s counts the relaxation's useful work ({flops / 1e9:.2f} GFLOP/epoch: "
        "the input drive once per phase, the top layer up and down every step).",
        "",
        "| implementation | s/epoch | × reference | test acc after 2 epochs | GFLOP/s | % of matmul |",
        "|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['implementation']} | {r['seconds_per_epoch']:.3f} | {r['speedup_vs_reference']:.2f} | "
        f"{r['test_acc_after_epoch']:.4f} | {r['relaxation_gflops']:.2f} | {100 * r['fraction_of_matmul']:.1f}% |"
        for r in rows
    ]
    write_report("ep", {"matmul_gflops": peak, "rows": rows}, md)


if __name__ == "__main__":
    main()
