# The two commands of this repository (see README.md):
#   make run    execute every notebook on every backend (embedded profile) -> build/report.md
#   make test   unit tests, notebook hygiene, nbval on every notebook x backend, metric floors
# Both create .venv and install requirements.txt first if needed. One backend: BACKENDS=torch

PYTHON ?= python3
VENV ?= .venv
BACKENDS ?= jax,tensorflow,torch
JOBS ?= 1
OUT ?= build
PY := $(VENV)/bin/python
STAMP := $(VENV)/.dlwp-installed

.PHONY: setup run test bench hygiene clean

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	@touch $@

run: setup
	$(PY) -m maintainer.run --backends "$(BACKENDS)" --jobs $(JOBS) --out "$(OUT)"

test: setup
	$(PY) -m maintainer.matrix --backends "$(BACKENDS)"

hygiene: setup
	$(PY) -m maintainer.hygiene check

clean:
	rm -rf build

# Not part of `make test`: ms per training step of each chapter's model on each backend and in
# native PyTorch, in interleaved rounds -> build/bench/results.md (about 25 minutes on 2 CPU
# cores); PUBLISH=1 writes the committed copy, benchmarks/results.md, instead.
BENCH_OUT = $(if $(PUBLISH),benchmarks,$(OUT)/bench)

bench: setup
	$(PY) -m maintainer.bench --backends "$(BACKENDS)" --out "$(BENCH_OUT)"
