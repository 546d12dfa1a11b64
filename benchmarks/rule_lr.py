"""How the ``quick`` suite's rules' learning rates stand on a validation split (never the test split).

The baseline's rate is chosen by ``benchmarks/baseline_lr.py``; this sweeps every other row of the
``quick`` suite the same way — its rate ×3^k for k = −1, 0, 1, extended by factors of 3 while the
best is at the grid's edge, with the suite's architecture and epochs, on the validation split of
``baseline_lr.validation_task`` (20 % of each task's training split), seeds 0 and 1 — and says, per
rule, which rate the validation split prefers.  The suite's rates are the preferred ones; a rule
whose suite rate is not is named, so a reader knows whether the comparison under-tunes it.

    python benchmarks/rule_lr.py          # writes benchmarks/results/rule_lr.{md,json}
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from baseline_lr import SEEDS, validation_task  # noqa: E402
from common import RESULTS, machine  # noqa: E402

from bioplast.bench.suite import BASELINE, expand, load_suite, make_config  # noqa: E402
from bioplast.errors import DivergenceError  # noqa: E402
from bioplast.io import atomic_write_json, atomic_write_text  # noqa: E402
from bioplast.training import train  # noqa: E402

STEP, MAX_STEPS = 3.0, 3  # rates ×3^k: start at k = −1, 0, 1, extend while the best is at an edge


class Search:
    """Validation accuracy of one rule at rate ``lr·3^k`` (mean over tasks and seeds), run on demand."""

    def __init__(self, jobs: list, data: dict, rows: list):
        self.jobs, self.data, self.rows, self.means = jobs, data, rows, {}

    def __call__(self, k: int) -> float:
        if k not in self.means:
            accs = []
            for job in self.jobs:
                key = (job.config["task"], job.config["seed"])
                lr = job.config["lr"] * STEP**k
                cfg = make_config({**job.config, "task": self.data[key], "lr": lr})  # the suite's run, on validation
                try:
                    acc = train(cfg, progress=False)[-1]["test_acc"]
                except DivergenceError:  # too large a rate for this rule: no accuracy, never preferred
                    acc = float("nan")
                accs.append(acc)
                self.rows.append({"rule": job.label, "task": key[0], "seed": key[1], "lr": lr, "k": k,
                                  "validation_acc": acc})  # fmt: skip
                print(f"{key[0]:8s} seed {key[1]} {job.label:24s} lr {lr:<8.3g} {acc:.4f}", flush=True)
            self.means[k] = float(np.mean(accs))  # NaN when any run diverged
        return self.means[k]

    def best(self) -> int:
        """The exponent with the best mean, the grid extended until it is interior (or ``MAX_STEPS``)."""
        lo, hi = -1, 1
        while True:
            scores = {k: self(k) for k in range(lo, hi + 1)}
            k = max(scores, key=lambda j: np.nan_to_num(scores[j], nan=-np.inf))
            if k == hi and hi < MAX_STEPS and not np.isnan(scores[hi]):
                hi += 1
            elif k == lo and lo > -MAX_STEPS:
                lo -= 1
            else:
                return k


def main() -> None:
    suite = load_suite("quick")
    jobs = [j for j in expand(suite) if j.label != BASELINE["label"] and j.config["seed"] in SEEDS]
    data = {key: validation_task(*key) for key in {(j.config["task"], j.config["seed"]) for j in jobs}}
    rows: list = []
    lines = [
        "# The quick suite's rules: learning rate on a validation split",
        "",
        "Each rule of the `quick` suite at its suite learning rate ×3^k (k = −1, 0, 1, the grid extended by "
        f"factors of 3 while the best rate is at its edge, at most {MAX_STEPS} steps), otherwise the suite's run "
        f"({suite['hidden'][0]} hidden units, {suite['epochs']} epochs, numba); validation accuracy "
        "(20 % of each task's training split, stratified; the test split unused), mean over seeds "
        f"{list(SEEDS)} and both tasks.",
        "",
        "| rule | suite lr | validation accuracy by lr | preferred lr |",
        "|---|---|---|---|",
    ]
    preferred = {}
    for label in dict.fromkeys(j.label for j in jobs):
        mine = [j for j in jobs if j.label == label]
        search = Search(mine, data, rows)
        k = search.best()
        lr = mine[0].config["lr"]
        preferred[label] = lr * STEP**k
        cells = ", ".join(
            f"{lr * STEP**j:.3g}: " + ("diverged" if np.isnan(m) else f"{m:.4f}")
            for j, m in sorted(search.means.items())
        )
        chosen = "the suite's" if k == 0 else f"{preferred[label]:.3g}"
        lines.append(f"| {label} | {lr:g} | {cells} | {chosen} |")
    under = [
        label
        for label, lr in preferred.items()
        if not np.isclose(lr, next(j.config["lr"] for j in jobs if j.label == label))
    ]
    lines += [
        "",
        "Every rule's suite rate is the one its validation split prefers."
        if not under
        else "Rules whose validation split prefers another rate than the suite's: " + ", ".join(under) + ".",
        "",
        f"Machine: {', '.join(f'{k}={v}' for k, v in machine().items())}",
    ]
    atomic_write_text(RESULTS / "rule_lr.md", "\n".join(lines) + "\n")
    atomic_write_json(RESULTS / "rule_lr.json", {"rows": rows, "preferred_lr": preferred})
    print("\n".join(lines))


if __name__ == "__main__":
    main()
