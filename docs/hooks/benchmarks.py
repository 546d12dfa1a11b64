"""MkDocs hook: the benchmarks page is generated from the committed results (benchmarks/results/*.md),
so no figure in it is copied by hand."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).parents[2] / "benchmarks" / "results"
PAGE = Path(__file__).parents[1] / "benchmarks.md"


def on_pre_build(config, **kwargs) -> None:
    parts = [
        "# Benchmarks",
        "",
        "Every table below is a committed result of a script in `benchmarks/` (run `python benchmarks/NAME.py` "
        "to reproduce it); each compares with a baseline run in the same process. The machine each ran on is "
        "given under its table.",
        "",
    ]
    for md in sorted(RESULTS.glob("*.md")):
        text = md.read_text(encoding="utf-8").strip().split("\n")
        title = text[0].lstrip("# ").strip() if text and text[0].startswith("#") else md.stem
        body = [line for line in text[1:] if not line.startswith("![")]  # figures stay with the results
        parts += [f"## {title}", "", f"*`benchmarks/results/{md.name}`*", "", *body, ""]
    new = "\n".join(parts) + "\n"
    if not PAGE.exists() or PAGE.read_text(encoding="utf-8") != new:
        PAGE.write_text(new, encoding="utf-8")
