"""Time every kernel on every backend at a realistic size; print ratios to numpy.

Size: batch 128, 784 presynaptic × 500 postsynaptic (an MNIST layer), float32.
For each (kernel, backend) it prints seconds per call, the speed-up over the
numpy reference (>1 means faster) and the achieved GFLOP/s as a fraction of
a float32 matrix product measured in the same run.  Results go to
benchmarks/results/kernels.{json,md}.

Run:  python benchmarks/kernels.py        (or: make bench)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from common import best_time, matmul_gflops, write_report  # noqa: E402

from bioplast.backends import available_backends, get_backend  # noqa: E402

B, Q, P = 128, 784, 500  # batch, n_pre, n_post


def cases(k, rng):
    post = k.asarray(rng.standard_normal((B, P)))
    pre = k.asarray(rng.standard_normal((B, Q)))
    w = k.asarray(rng.standard_normal((P, Q)) * 0.1)
    u = k.asarray(rng.standard_normal((P, Q)) * 0.01)
    s = k.asarray(rng.random(P))
    b = k.asarray(rng.standard_normal(P))
    signs = k.asarray(np.sign(rng.standard_normal(Q)))
    trace = k.asarray(rng.random((B, Q)))
    events = k.asarray((rng.random((B, Q)) < 0.05) * 1.0)
    return {
        # name: (call, flops)
        "outer_mean": (lambda: k.outer_mean(post, pre), 2 * B * P * Q),
        "outer_mean_decay": (lambda: k.outer_mean_decay(post, pre, w, s), 2 * B * P * Q + 2 * P * Q),
        "linear": (lambda: k.linear(pre, w, b), 2 * B * P * Q + B * P),
        "row_scale": (lambda: k.row_scale(w, s), P * Q),
        "add": (lambda: k.add(w, u), P * Q),
        "to_grid": (lambda: k.to_grid(w, 2.0**-7, -1.0, 1.0), 4 * P * Q),
        "sign_project": (lambda: k.sign_project(w, signs), 2 * P * Q),
        "batch_mean": (lambda: k.batch_mean(pre), B * Q),
        "decay_trace": (lambda: k.decay_trace(trace, events, 0.95), 2 * B * Q),
        "softmax": (lambda: k.softmax(post), 4 * B * P),
    }


def main() -> None:
    peak = matmul_gflops()
    print(f"float32 matmul (1024³, numpy/BLAS) in this run: {peak:.1f} GFLOP/s")
    backends = [(n, d) for n, d in available_backends()]
    times = {}
    flops = {}
    for name, device in backends:
        k = get_backend(name, device=device, dtype="float32")
        for kernel, (fn, f) in cases(k, np.random.default_rng(0)).items():
            if device == "cuda":
                import torch

                def fn_sync(fn=fn):
                    fn()
                    torch.cuda.synchronize()

                times[(kernel, f"{name}-{device}")] = best_time(fn_sync)
            else:
                times[(kernel, f"{name}-{device}")] = best_time(fn)
            flops[kernel] = f
    cols = [f"{n}-{d}" for n, d in backends]
    rows = []
    header = f"{'kernel':<18}" + "".join(f"{c:>34}" for c in cols)
    print(header)
    print(f"{'':<18}" + "".join(f"{'µs  ×numpy  GFLOP/s  %matmul':>34}" for _ in cols))
    for kernel in flops:
        line = f"{kernel:<18}"
        ref = times[(kernel, "numpy-cpu")]
        for c in cols:
            t = times[(kernel, c)]
            g = flops[kernel] / t / 1e9
            rows.append(
                {
                    "kernel": kernel,
                    "backend": c,
                    "seconds": t,
                    "speedup_vs_numpy": ref / t,
                    "gflops": g,
                    "fraction_of_matmul": g / peak,
                }
            )
            line += f"{t * 1e6:>12.1f}{ref / t:>8.2f}{g:>9.2f}{100 * g / peak:>5.0f}%"
        print(line)
    md = [
        "# Kernel benchmark",
        "",
        f"Batch {B}, {Q} pre × {P} post, float32. Float32 matmul in the same run: {peak:.1f} GFLOP/s.",
        "",
        "| kernel | backend | µs/call | × numpy | GFLOP/s | % of matmul |",
        "|---|---|---|---|---|---|",
    ]
    md += [
        f"| {r['kernel']} | {r['backend']} | {r['seconds'] * 1e6:.1f} | {r['speedup_vs_numpy']:.2f} | "
        f"{r['gflops']:.2f} | {100 * r['fraction_of_matmul']:.0f}% |"
        for r in rows
    ]
    write_report("kernels", {"matmul_gflops": peak, "size": {"batch": B, "n_pre": Q, "n_post": P}, "rows": rows}, md)
    slower = [r for r in rows if r["backend"] == "numba-cpu" and r["speedup_vs_numpy"] < 0.9]
    if slower:
        print("numba slower than numpy (< 0.9×) on:", ", ".join(r["kernel"] for r in slower))


if __name__ == "__main__":
    main()
