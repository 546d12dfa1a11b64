"""The report names every row that beats the backprop baseline, and by how much."""

import math

from bioplast.bench.baseline import against_baseline


def _row(label, task, acc):
    return {"label": label, "task": task, "test_acc_mean": acc}


def test_rows_above_the_baseline_are_named_with_their_margin():
    summary = [
        _row("backprop (Adam)", "digits", 0.90),
        _row("EP symmetric", "digits", 0.925),
        _row("Oja", "digits", 0.70),
        _row("DANN", "digits", 0.93),
        _row("backprop (Adam)", "mnist5k", 0.92),
        _row("EP symmetric", "mnist5k", 0.91),
        _row("broken", "mnist5k", math.nan),
        _row("Oja", "other", 0.5),  # no baseline on this task: nothing said
    ]
    digits, mnist = against_baseline(summary)
    assert (
        digits == "digits: DANN by 3.0 points, EP symmetric by 2.5 points above the baseline (backprop (Adam), 0.9000)."
    )
    assert mnist == "mnist5k: the baseline (backprop (Adam), 0.9200) is the most accurate row."
