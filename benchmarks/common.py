"""Shared helpers for the speed scripts: timing, machine facts, writing results."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


def best_time(fn, min_total: float = 0.3, repeats: int = 5) -> float:
    """Best-of-``repeats`` seconds per call, each repeat looping until ``min_total/repeats`` s.

    The minimum is the least noisy estimate of a kernel's cost on a shared
    machine (noise only ever adds time).
    """
    fn()  # warm-up: JIT compilation, caches, allocator
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_total / repeats:
            break
        n *= 2
    best = t / n
    for _ in range(repeats - 1):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def matmul_gflops(n: int = 1024) -> float:
    """float32 GEMM throughput of this machine (numpy/BLAS), the in-run roofline."""
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    t = best_time(lambda: a @ a)
    return 2 * n**3 / t / 1e9


def machine() -> dict:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=Path(__file__).parent
        ).stdout.strip()
    except OSError:
        commit = ""
    import numba
    import torch

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "git_commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def markdown_table(columns: list, rows: list) -> list:
    """Lines of a markdown table; ``columns`` are ``(header, key, format)`` triples."""
    return ["| " + " | ".join(h for h, _, _ in columns) + " |", "|" + "---|" * len(columns)] + [
        "| " + " | ".join(format(r[k], f) for _, k, f in columns) + " |" for r in rows
    ]


def write_report(name: str, payload: dict, md: list) -> None:
    """Add this machine's facts to ``payload`` and as the last line of the markdown, then write both."""
    info = machine()
    write_results(
        name,
        {**payload, "machine": info},
        "\n".join(md + ["", "Machine: " + ", ".join(f"{k}={v}" for k, v in info.items())]) + "\n",
    )


def write_results(name: str, payload: dict, markdown: str) -> None:
    sys.path.insert(0, str(Path(__file__).parent.parent))
    from bioplast.io import atomic_write_json, atomic_write_text

    RESULTS.mkdir(parents=True, exist_ok=True)
    atomic_write_json(RESULTS / f"{name}.json", payload)
    atomic_write_text(RESULTS / f"{name}.md", markdown)
