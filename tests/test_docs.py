"""The documentation says what the code does: every Python block in the docs compiles, the front
page's and the getting-started page's Python blocks run, every ``bioplast`` command in a shell
block parses with today's CLI, and every relative link points at a file that exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from bioplast.cli import build_parser

ROOT = Path(__file__).parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
# written by docs/hooks/{benchmarks,reproductions}.py when the site is built (absent from a fresh clone)
GENERATED = {(ROOT / "docs" / name).resolve() for name in ("benchmarks.md", "reproductions.md")}
PAGES = [p for p in PAGES if p.resolve() not in GENERATED]
RUN = [ROOT / "README.md", ROOT / "docs" / "getting-started.md"]
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks(page: Path, language: str) -> list:
    text = page.read_text(encoding="utf-8")
    return [body for lang, body in FENCE.findall(text) if lang == language]


def _id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_python_blocks_compile(page):
    for i, block in enumerate(blocks(page, "python")):
        if "--8<--" in block:  # a snippet of a file the tests import elsewhere
            continue
        compile(block, f"{_id(page)}[python block {i}]", "exec")


@pytest.mark.parametrize("page", [p for p in RUN if p.exists()], ids=_id)
def test_python_blocks_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for i, block in enumerate(blocks(page, "python")):
        exec(compile(block, f"{_id(page)}[python block {i}]", "exec"), namespace)  # noqa: S102 - our own docs


def _commands(block: str):
    for line in block.replace("\\\n", " ").splitlines():
        line = line.split("  #", 1)[0].strip()
        words = shlex.split(line, comments=True) if line else []
        while words and re.match(r"^[A-Z_]+=", words[0]):  # VAR=value prefixes
            words = words[1:]
        if words[:1] == ["bioplast"]:
            yield words[1:]


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_every_cli_command_in_the_docs_parses(page):
    parser = build_parser()
    for block in blocks(page, "bash"):
        for argv in _commands(block):
            try:
                parser.parse_args(argv)
            except SystemExit as exc:
                if exc.code != 0:  # --help and --version exit 0
                    pytest.fail(f"{_id(page)}: `bioplast {' '.join(argv)}` does not parse")


LINK = re.compile(r"\]\(([^)\s#]+)(#[^)]*)?\)")


@pytest.mark.parametrize("page", PAGES, ids=_id)
def test_relative_links_point_at_files(page):
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    for target, _ in LINK.findall(text):
        if re.match(r"^[a-z]+:", target) or (page.parent / target).resolve() in GENERATED:
            continue
        assert (page.parent / target).exists(), f"{_id(page)} links to missing {target!r}"
