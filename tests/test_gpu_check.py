"""The GPU check runs: its dry mode executes every step (tests collected, each benchmark at toy size)
on the CPU, so the script needs no edit when a GPU is lent."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))


@pytest.mark.slow
def test_the_gpu_check_runs_in_its_dry_mode(capsys):
    import gpu_check

    assert gpu_check.main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    folder = Path(out.strip().splitlines()[-1].split("results in ")[1]).parent
    report = json.loads((folder / "gpu_check.json").read_text())
    assert report["device"].endswith("dry run")
    names = [s["step"] for s in report["steps"]]
    assert names[0] == "tests marked cuda" and len(names) == 4
    for step in report["steps"][1:]:
        assert step["torch"] > 0 and step["numba_cpu"] > 0 and step["ratio"] > 0
    assert not (Path(gpu_check.RESULTS) / "gpu_check.json").exists() or folder != Path(gpu_check.RESULTS)


def test_the_backend_battery_marks_the_cuda_cases():
    """``pytest -m cuda`` selects exactly the torch:cuda cases of the backend fixture."""
    from bioplast.testing import plugin

    class Config:
        def getoption(self, name):
            return []

    class Meta:
        fixturenames = ["backend"]
        config = Config()

        class definition:
            @staticmethod
            def iter_markers(name):
                return []

        def parametrize(self, name, params, indirect):
            self.params = params

    meta = Meta()
    original = plugin._backends
    plugin._backends = lambda config: [("numpy", "cpu"), ("torch", "cuda")]
    try:
        plugin.pytest_generate_tests(meta)
    finally:
        plugin._backends = original
    marked = {p.id: [m.name for m in p.marks] for p in meta.params}
    assert marked == {"numpy-cpu-float32": [], "numpy-cpu-float64": [], "torch-cuda-float32": ["cuda"],
                      "torch-cuda-float64": ["cuda"]}  # fmt: skip
