"""What a reproduction is: a paper's claim, the experiment that tests it, and its verdict row.

A :class:`Claim` names the paper and figure, states the paper's value, and runs an experiment at
one of two budgets — ``"full"`` (the committed result) or ``"quick"`` (the same code at a budget a
test affords; its numbers prove the pipeline runs, not the claim).  Running it gives an
:class:`Outcome`: our value, a verdict (:data:`VERDICTS`), optional finer rows (one per figure
panel) and the figure it drew.  :func:`row` turns the two into the line of the reproductions
table: *paper's value · ours · verdict · command*.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from bioplast.errors import ConfigError, unknown_name

VERDICTS = ("reproduced", "partly", "not reproduced")
BUDGETS = ("quick", "full")


class Outcome(NamedTuple):
    """What one run of a claim's experiment found."""

    ours: str  # our value, in the paper's terms
    verdict: str  # one of VERDICTS
    figure: str  # the file name of the figure it drew (in the run's folder)
    details: tuple = ()  # finer rows: {"part", "paper", "ours", "verdict"}
    numbers: dict | None = None  # the measured values behind ``ours`` (for tests and the JSON)


@dataclass(frozen=True)
class Claim:
    """One paper claim and the experiment that tests it: ``run(budget, out, seed) -> Outcome``.
    ``long``: the full budget takes minutes or more (excluded from the quick set)."""

    name: str
    title: str
    source: str
    paper: str
    run: Callable[[str, Path, int], Outcome]
    long: bool = False
    departures: str = ""  # where our protocol departs from the paper's, said plainly


def combine(verdicts) -> str:
    """One verdict from a claim's parts: reproduced when every judged part is, not reproduced when
    none is (or nothing could be judged), partly otherwise; ``"not compared"`` parts are not judged."""
    judged = [v for v in verdicts if v != "not compared"]
    if judged and all(v == "reproduced" for v in judged):
        return "reproduced"
    return "not reproduced" if all(v == "not reproduced" for v in judged) else "partly"


def check_outcome(claim: Claim, outcome: Outcome) -> Outcome:
    if outcome.verdict not in VERDICTS:
        raise ConfigError(f"claim {claim.name!r} gave verdict {outcome.verdict!r}; expected one of {VERDICTS}")
    for detail in outcome.details:
        if detail.get("verdict") not in (*VERDICTS, "not compared"):
            raise ConfigError(
                f"claim {claim.name!r}: part {detail.get('part')!r} has verdict {detail.get('verdict')!r}"
            )
    return outcome


def check_budget(budget: str) -> str:
    if budget not in BUDGETS:
        raise unknown_name("budget", budget, BUDGETS)
    return budget


def row(claim: Claim, outcome: Outcome, budget: str, seconds: float) -> dict:
    """The claim's line of the reproductions table (and of its ``row.json``)."""
    command = f"bioplast reproduce {claim.name}" + (" --budget quick" if budget == "quick" else "")
    return {
        "claim": claim.name,
        "title": claim.title,
        "source": claim.source,
        "paper": claim.paper,
        "ours": outcome.ours,
        "verdict": outcome.verdict,
        "details": list(outcome.details),
        "numbers": dict(outcome.numbers or {}),
        "departures": claim.departures,
        "figure": outcome.figure,
        "budget": budget,
        "seconds": round(seconds, 1),
        "command": command,
        "long": claim.long,
    }
