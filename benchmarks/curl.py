"""Student–teacher lab speed: the fused numba run against the numpy reference loop, in one run.

Full-batch curl descent (10 % of hidden units flipped), tanh teacher and
student, 200 training samples; steps per second for M=100 inputs / N=10
hidden and M=400 / N=1000.  Issue 4's target is ≥ 10× over the plain numpy
loop for the small network; results: ``benchmarks/results/curl.{json,md}``.

Run:  python benchmarks/curl.py
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent.parent))
sys.path.insert(0, str(Path(__file__).parent))

from common import markdown_table, write_report  # noqa: E402

from bioplast.data import teacher_student  # noqa: E402
from bioplast.dynamics import student_teacher as st  # noqa: E402
from bioplast.rules.curl import flip_signs  # noqa: E402


def main() -> None:
    rows = []
    for m, n, steps in ((100, 10, 3000), (400, 1000, 100)):
        task = teacher_student(m, n, 1, 200, 200, "tanh", seed=0)
        rng = np.random.default_rng(1)
        w1, w2 = rng.standard_normal((n, m)) * 0.1, rng.standard_normal((1, n)) * 0.1
        d2 = flip_signs(n, 0.1, 0)
        st.run(w1, w2, task, 0.05, 3, None, d2, backend="numba")  # compile
        rates = {}
        for backend in ("numpy", "numba"):
            best = np.inf
            for _ in range(3):
                t0 = time.perf_counter()
                st.run(w1, w2, task, 0.05, steps, None, d2, backend=backend, records=10)
                best = min(best, time.perf_counter() - t0)
            rates[backend] = steps / best
        rows.append({"M": m, "N": n, "numpy_steps_per_s": rates["numpy"], "numba_steps_per_s": rates["numba"],
                     "speedup": rates["numba"] / rates["numpy"]})
        print(f"M={m} N={n}: numpy {rates['numpy']:.0f} steps/s, numba {rates['numba']:.0f} steps/s, "
              f"×{rates['numba'] / rates['numpy']:.2f}")
    md = ["# Student–teacher lab speed", "",
          "Full-batch curl descent, 200 samples, tanh; best of 3. Target (issue 4): ≥ 10× over numpy for "
          "M=100, N=10 — not met: at these sizes both loops spend their time in per-call overhead of small "
          "products; batching a sweep (seeds × flip fractions) into one computation is the route left.", ""]
    md += markdown_table([("M", "M", "d"), ("N", "N", "d"), ("numpy steps/s", "numpy_steps_per_s", ".0f"),
                          ("numba steps/s", "numba_steps_per_s", ".0f"), ("× numpy", "speedup", ".2f")], rows)
    write_report("curl", {"rows": rows}, md)


if __name__ == "__main__":
    main()
