"""The GPU check: bioplast's CUDA paths, run on a real GPU in a few minutes.

    python benchmarks/gpu_check.py            # on a machine with CUDA: tests + benchmarks, results committed
    python benchmarks/gpu_check.py --dry-run  # anywhere: every step at toy size on the CPU, results to a temp folder

Steps (each prints the ratio against a baseline run in the same process):

1. the tests marked ``cuda`` (``pytest -m cuda``): the backend battery on ``torch:cuda`` and the
   CUDA-only tests — they skip on a machine without a GPU;
2. EP on an MLP (784-512-10, MNIST-5k, batch 50, 30 + 10 steps, one-sided, float32): seconds per
   epoch on ``torch:cuda`` against the ``numba`` backend on this machine's CPU;
3. the student–teacher sweep (curl descent, 100-10-1, tanh, full batch of 200): 1,024 runs at once
   on ``torch:cuda`` against ``numba`` (parallel over the CPU's cores);
4. Diehl & Cook inference (N = 400, 350 ms per digit, no learning): digits per second in batches of
   256 on ``torch:cuda`` against ``numba``.

Writes ``benchmarks/results/gpu_check.md`` (and ``.json``) naming the device; ``--dry-run`` runs the
same code on the CPU at toy sizes and writes into a temporary folder, so CI checks the script runs
without claiming any GPU figure.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent))

from bioplast.io import atomic_write_json, atomic_write_text  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def _device(dry: bool) -> tuple[str, str]:
    import torch

    if dry:
        return "cpu", f"CPU ({platform.processor() or platform.machine()}), dry run"
    if not torch.cuda.is_available():
        raise SystemExit("gpu_check: no CUDA device is visible; run with --dry-run to check the script on a CPU")
    return "cuda", torch.cuda.get_device_name(0)


def cuda_tests(dry: bool) -> dict:
    """``pytest -m cuda``: on a GPU every test must pass; in a dry run they are collected (they skip)."""
    root = Path(__file__).parent.parent
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "cuda", "tests"]
    if dry:
        cmd.append("--collect-only")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    last = (proc.stdout.strip().splitlines() or [""])[-1]
    if proc.returncode not in (0, 5 if dry else 0):  # 5: nothing collected
        raise SystemExit(f"gpu_check: the cuda tests failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return {"step": "tests marked cuda", "summary": last, "seconds": time.perf_counter() - t0}


def _ep_epoch(backend: str, device: str, dry: bool) -> float:
    from bioplast.training import TrainConfig, train

    cfg = TrainConfig(
        rule="eqprop",
        task="digits" if dry else "mnist5k",
        backend=backend,
        device=device,
        hidden=(16,) if dry else (512,),
        batch_size=50,
        epochs=1 if dry else 2,
        rule_params={"estimator": "one_sided", "free_steps": 30, "nudge_steps": 10},
    )
    records = train(cfg, progress=False)
    # the last epoch: the first pays for compilation and CUDA start-up
    return records[-1]["wall_time_s"] - (records[-2]["wall_time_s"] if len(records) > 2 else 0.0)


def ep_mlp(device: str, dry: bool) -> dict:
    gpu = _ep_epoch("torch", device, dry)
    cpu = _ep_epoch("numba", "cpu", dry)
    return {"step": "EP MLP 784-512-10, MNIST-5k, s/epoch", "torch": gpu, "numba_cpu": cpu, "ratio": cpu / gpu}


def _sweep_rate(backend: str, device: str, runs: int, steps: int) -> float:
    from bioplast.data import teacher_student
    from bioplast.dynamics import student_teacher as st
    from bioplast.rules.curl import flip_signs

    task = teacher_student(100, 10, 1, 200, 200, "tanh", seed=0, readout="tanh", input_std=2**-0.5)
    rng = np.random.default_rng(1)
    w1 = rng.standard_normal((runs, 10, 100)) / 10.0
    w2 = rng.standard_normal((runs, 1, 10)) / np.sqrt(10)
    d2 = flip_signs(10, 0.1, 0)
    st.sweep(w1, w2, task, 0.05, 2, None, d2, backend=backend, device=device, records=2)  # compile / warm up
    t0 = time.perf_counter()
    st.sweep(w1, w2, task, 0.05, steps, None, d2, backend=backend, device=device, records=5)
    return runs * steps / (time.perf_counter() - t0)


def student_teacher(device: str, dry: bool) -> dict:
    runs, steps = (16, 20) if dry else (1024, 2000)
    gpu = _sweep_rate("torch", device, runs, steps)
    cpu = _sweep_rate("numba", "cpu", runs, steps)
    return {"step": f"student-teacher sweep, {runs} runs, run-steps/s", "torch": gpu, "numba_cpu": cpu,
            "ratio": gpu / cpu}  # fmt: skip


def _dc_rate(backend: str, digits: int, n: int, batch: int) -> float:
    from bioplast.data import load_task
    from bioplast.models.diehl_cook import DiehlCook, DiehlCookConfig

    data = load_task("digits", 0)
    net = DiehlCook(data.n_features, DiehlCookConfig(n_neurons=n), seed=0, backend=backend)
    x = data.x_test[:digits]
    net.responses(x[: min(batch, digits)], batch=batch)  # warm up
    t0 = time.perf_counter()
    net.responses(x, batch=batch)
    return digits / (time.perf_counter() - t0)


def diehl_cook(device: str, dry: bool) -> dict:
    digits, n, batch = (8, 20, 8) if dry else (1024, 400, 256)
    gpu = _dc_rate("torch:cuda" if device == "cuda" else "torch", digits, n, batch)
    cpu = _dc_rate("numba", digits, n, batch)
    return {"step": f"Diehl & Cook inference N={n}, digits/s", "torch": gpu, "numba_cpu": cpu, "ratio": gpu / cpu}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="toy sizes on the CPU; results to a temp folder")
    args = parser.parse_args(argv)
    device, name = _device(args.dry_run)
    out = Path(tempfile.mkdtemp(prefix="gpu_check_")) if args.dry_run else RESULTS
    steps = [cuda_tests(args.dry_run)]
    for bench in (ep_mlp, student_teacher, diehl_cook):
        t0 = time.perf_counter()
        row = bench(device, args.dry_run)
        row["seconds"] = time.perf_counter() - t0
        steps.append(row)
        print(f"{row['step']}: torch {row['torch']:.4g}, numba CPU {row['numba_cpu']:.4g}, ratio {row['ratio']:.2f}",
              flush=True)  # fmt: skip
    import torch

    lines = [
        "# GPU check",
        "",
        f"Device: {name}; torch {torch.__version__}; CPU baseline: numba on this machine's "
        f"{platform.processor() or platform.machine()}. Ratios are the GPU's speed-up over the CPU "
        "baseline, measured in the same process (`python benchmarks/gpu_check.py`).",
        "",
        f"Tests marked `cuda`: {steps[0]['summary']}",
        "",
        "| benchmark | torch:cuda | numba (CPU) | speed-up |",
        "|---|---|---|---|",
        *(f"| {s['step']} | {s['torch']:.4g} | {s['numba_cpu']:.4g} | {s['ratio']:.2f}× |" for s in steps[1:]),
    ]
    atomic_write_text(out / "gpu_check.md", "\n".join(lines) + "\n")
    atomic_write_json(out / "gpu_check.json", {"device": name, "steps": steps})
    print(f"results in {out}/gpu_check.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
