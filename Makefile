# Two commands from a fresh clone:  make demo  |  make test
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: demo test test-fast test-portable lint docs gpu-check bench install clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# torch is installed first and pinned, so pip takes the local 2.13.0 CPU wheel
# (or the registry's 2.13.0) and never resolves a newer build with CUDA wheels.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "torch==2.13.0"
	$(BIN)/python -m pip install -q -e ".[all]" "torch==2.13.0"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/bioplast demo --out results/demo

# lint: ruff (lint and format), the layers contract (no import points up the house), mypy
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# the documentation site, strict: a broken link or a missing reference fails
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

# lint, the docs build, then every test (the slow ones too) on all cores
test: $(STAMP) lint docs
	$(BIN)/python -m pytest -q -p no:cacheprovider -n auto

# the tests without the slow ones (each > 10 s), for the edit-run loop
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n auto -m "not slow"

# the suite on OpenBLAS's conservative Haswell kernels: tolerances must not depend on the CPU's BLAS kernel
test-portable: $(STAMP)
	OPENBLAS_CORETYPE=Haswell $(BIN)/python -m pytest -q -p no:cacheprovider -n auto

# on a machine with a GPU: the cuda tests and short GPU benchmarks, results in benchmarks/results/gpu_check.md
gpu-check: $(STAMP)
	$(BIN)/python benchmarks/gpu_check.py

bench: $(STAMP)
	$(BIN)/python benchmarks/kernels.py

clean:
	rm -rf $(VENV) results build site *.egg-info
