"""What the report says about the reference row: does any rule beat the backprop baseline, by how much?

A comparison is only as fair as its baseline.  The built-in suites' reference row is backprop with
Adam (:data:`bioplast.bench.suite.BASELINE`); the report states, per task, every row whose mean test
accuracy exceeds the baseline's and by how many percentage points — or that none does — so a
reader never has to find it in the table.
"""

from __future__ import annotations

import math

from bioplast.bench.suite import BASELINE


def against_baseline(summary: list, baseline: str = str(BASELINE["label"])) -> list:
    """One sentence per task that has a row labelled ``baseline`` (summary rows of
    :func:`bioplast.bench.sweep.summarise`)."""
    lines = []
    for task in dict.fromkeys(s["task"] for s in summary):
        rows = [s for s in summary if s["task"] == task and not math.isnan(s["test_acc_mean"])]
        ref = next((s for s in rows if s["label"] == baseline), None)
        if ref is None:
            continue
        better = sorted(
            (s for s in rows if s["label"] != baseline and s["test_acc_mean"] > ref["test_acc_mean"]),
            key=lambda s: -s["test_acc_mean"],
        )
        if not better:
            lines.append(f"{task}: the baseline ({baseline}, {ref['test_acc_mean']:.4f}) is the most accurate row.")
            continue
        beats = ", ".join(
            f"{s['label']} by {100 * (s['test_acc_mean'] - ref['test_acc_mean']):.1f} points" for s in better
        )
        lines.append(f"{task}: {beats} above the baseline ({baseline}, {ref['test_acc_mean']:.4f}).")
    return lines
