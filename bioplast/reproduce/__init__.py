"""One command per paper claim: ``bioplast reproduce``.

Each claim (:class:`~bioplast.reproduce.claims.Claim`) runs its experiment and writes, into
``OUT/<claim>/``: ``row.json`` (paper's value · ours · verdict · command, written atomically),
its figure, and ``report.md``.  The documentation's reproductions page is generated from the
committed ``row.json`` files of the full-budget runs.

:data:`CLAIMS` lists them in the order of the reproductions page; :func:`run_claim` runs one.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from bioplast.errors import unknown_name
from bioplast.io import atomic_write_json, atomic_write_text
from bioplast.reproduce import curl_stability, dale_claims, diehl_cook, ep_claims, saddle, spiking_refs
from bioplast.reproduce.claims import Claim, check_budget, check_outcome, row

# the order of the reproductions page: EP, curl, Dale and EG, spiking
CLAIMS: dict[str, Claim] = {
    c.name: c
    for c in (
        *ep_claims.CLAIMS,
        curl_stability.CLAIM,
        saddle.CLAIM,
        *dale_claims.CLAIMS,
        spiking_refs.LIF_CLAIM,
        spiking_refs.STDP_CLAIM,
        diehl_cook.CLAIM,
    )
}

# the committed full-budget results of a source checkout (absent from an installed package)
COMMITTED = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "reproduce"


def get_claim(name: str) -> Claim:
    if name not in CLAIMS:
        raise unknown_name("claim", name, list(CLAIMS))
    return CLAIMS[name]


def last_row(out, name: str) -> dict | None:
    """The row a finished run of claim ``name`` left in ``out`` (``None``: not run, or unreadable)."""
    path = Path(out) / name / "row.json"
    try:
        line = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return line if isinstance(line, dict) and line.get("claim") == name and "verdict" in line else None


def report(line: dict) -> str:
    """A claim's ``report.md``: the verdict row, the finer rows, the departures, the figure."""
    md = [
        f"# {line['title']}",
        "",
        f"**Source:** {line['source']}  ",
        f"**Paper:** {line['paper']}  ",
        f"**Ours:** {line['ours']}  ",
        f"**Verdict:** {line['verdict']}  ",
        f"**Command:** `{line['command']}` ({line['budget']} budget, {line['seconds']:.0f} s)",
        "",
    ]
    if line["details"]:
        md += ["| part | paper | ours | verdict |", "|---|---|---|---|"]
        md += [f"| {d['part']} | {d['paper']} | {d['ours']} | {d['verdict']} |" for d in line["details"]]
        md.append("")
    if line["departures"]:
        md += [f"**Where we depart from the paper:** {line['departures']}.", ""]
    md += [f"![{line['claim']}]({line['figure']})", ""]
    return "\n".join(md)


def run_claim(name: str, out, budget: str = "full", seed: int = 0) -> dict:
    """Run claim ``name`` at ``budget`` into ``out/<name>/``; returns its row."""
    claim = get_claim(name)
    folder = Path(out) / claim.name
    folder.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    outcome = check_outcome(claim, claim.run(check_budget(budget), folder, seed))
    line = row(claim, outcome, budget, time.perf_counter() - start)
    atomic_write_json(folder / "row.json", line)
    atomic_write_text(folder / "report.md", report(line))
    return line
