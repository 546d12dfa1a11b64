"""Every script in examples/ runs (with its quick defaults) and prints its result."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parent.parent / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(script):
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip(), "example printed nothing"


def test_quickstart_finds_the_principal_component():
    script = Path(__file__).parent.parent / "examples" / "quickstart.py"
    out = subprocess.run(
        [sys.executable, str(script), "--backend", "numba"], capture_output=True, text=True, timeout=300
    ).stdout
    cos = float(out.split("|cos(w, PC1)| = ")[1].split()[0])
    assert cos > 0.99, out
