"""MkDocs hook: the reproductions page is generated from the committed claim rows
(benchmarks/results/reproduce/<claim>/row.json, written by ``bioplast reproduce``), so no verdict or
number on it is typed by hand; each claim's figure is copied beside the page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from bioplast.reproduce import CLAIMS

ROOT = Path(__file__).parents[2]
RESULTS = ROOT / "benchmarks" / "results" / "reproduce"
PAGE = ROOT / "docs" / "reproductions.md"
FIGURES = ROOT / "docs" / "img" / "reproduce"

INTRO = [
    "# Reproductions",
    "",
    "Each row is one paper claim, the command that tests it, and what the committed run of that command",
    "found. `bioplast reproduce --list` lists the claims; `bioplast reproduce NAME` runs one and writes its",
    "figure, `row.json` and `report.md`; `bioplast reproduce --all` runs every claim not marked long.",
    "A verdict is *reproduced* when our number meets the paper's by the criterion the claim states,",
    "*partly* when some of its parts do, *not reproduced* otherwise; parts the paper gives no number for",
    "are *not compared*. Where our protocol departs from the paper's, the claim says how.",
    "",
]


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _rows() -> list:
    """The committed rows in the order of ``bioplast reproduce --list`` (unknown claims last)."""
    order = {name: i for i, name in enumerate(CLAIMS)}
    rows = []
    for path in sorted(RESULTS.glob("*/row.json")):
        try:
            rows.append((path.parent, json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue
    return sorted(rows, key=lambda r: order.get(r[1].get("claim"), len(order)))


def page() -> str:
    rows = _rows()
    md = list(INTRO)
    md += ["| claim | paper | ours | verdict | command |", "|---|---|---|---|---|"]
    for _, r in rows:
        md.append(
            f"| [{_cell(r['title'])}](#{r['claim']}) ({_cell(r['source'])}) | {_cell(r['paper'])} | "
            f"{_cell(r['ours'])} | **{r['verdict']}** | `{_cell(r['command'])}` |"
        )
    md.append("")
    for folder, r in rows:
        md += [f"## {r['title']} {{#{r['claim']}}}", "", f"*{_cell(r['source'])}* — `{r['command']}`", ""]
        if r.get("details"):
            md += ["| part | paper | ours | verdict |", "|---|---|---|---|"]
            md += [
                f"| {_cell(d['part'])} | {_cell(d['paper'])} | {_cell(d['ours'])} | {d['verdict']} |"
                for d in r["details"]
            ]
            md.append("")
        if r.get("departures"):
            md += [f"**Departures from the paper:** {r['departures']}.", ""]
        figure = folder / str(r.get("figure", ""))
        if figure.is_file():
            FIGURES.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(figure, FIGURES / f"{r['claim']}.png")
            md += [f"![{r['title']}](img/reproduce/{r['claim']}.png)", ""]
    return "\n".join(md) + "\n"


def on_pre_build(config, **kwargs) -> None:
    new = page()
    if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != new:
        PAGE.write_text(new, encoding="utf-8")
