# Two commands from a fresh clone:  make demo  |  make test
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: demo test test-portable lint bench install clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# torch is installed first and pinned, so pip takes the local 2.13.0 CPU wheel
# (or the registry's 2.13.0) and never resolves a newer build with CUDA wheels.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "torch==2.13.0"
	$(BIN)/python -m pip install -q -e ".[test,dask,nir]" "torch==2.13.0"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/bioplast demo --out results/demo

# the layers contract (pyproject.toml): no import points up the house
lint: $(STAMP)
	$(BIN)/lint-imports

test: $(STAMP) lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

# the suite on OpenBLAS's conservative Haswell kernels: tolerances must not depend on the CPU's BLAS kernel
test-portable: $(STAMP)
	OPENBLAS_CORETYPE=Haswell $(BIN)/python -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/kernels.py

clean:
	rm -rf $(VENV) results build *.egg-info
