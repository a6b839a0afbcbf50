# The two commands of this repository (see README.md):
#   make run    execute every notebook on every backend (embedded profile) -> build/index.html, build/report.md
#   make test   unit tests, notebook hygiene, nbval on every notebook x backend, floors, baseline, browser checks
# Both create .venv and install requirements.txt first if needed. `make help` lists every target.

PYTHON ?= python3
VENV ?= .venv
BACKENDS ?= jax,tensorflow,torch
PROFILE ?= embedded
JOBS ?= 1
OUT ?= build
PUBLISH ?=
PY := $(VENV)/bin/python
STAMP := $(VENV)/.dlwp-installed
BENCH_OUT := $(if $(PUBLISH),benchmarks,build/bench)

.PHONY: help setup run test baseline bench lab hygiene clean

help:
	@echo "Targets:"
	@echo "  make run        execute every notebook on every backend -> $(OUT)/index.html (HTML report), $(OUT)/report.md"
	@echo "  make test       unit tests, hygiene, every notebook under nbval per backend, a second run, the metric"
	@echo "                  floors and baseline, the HTML report and JupyterLab in headless Chromium (.ci/run runs this)"
	@echo "  make baseline   after make test: record its metrics as tests/results/baseline.json, saying what changed"
	@echo "  make bench      ms per training step per backend and native PyTorch -> $(BENCH_OUT)/ (PUBLISH=1: benchmarks/)"
	@echo "  make lab        JupyterLab in the venv on 127.0.0.1, KERAS_BACKEND = the first of BACKENDS"
	@echo "  make hygiene    the notebook checks alone"
	@echo "  make setup      create $(VENV) and install requirements.txt and dlwp_utils (the others do it themselves)"
	@echo "  make clean      remove build/"
	@echo "Variables (now):"
	@echo "  BACKENDS=$(BACKENDS)   comma-separated: jax, tensorflow, torch"
	@echo "  PROFILE=$(PROFILE)     make run's profile: embedded (offline) or book (real data, book sizes)"
	@echo "  JOBS=$(JOBS)           notebooks make run executes at once"
	@echo "  OUT=$(OUT)             make run's output folder"
	@echo "  PUBLISH=$(PUBLISH)     make bench into the committed benchmarks/ when set"
	@echo "  PYTHON=$(PYTHON) VENV=$(VENV)"

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -r requirements.txt -e .
	@touch $@

run: setup
	$(PY) -m maintainer.run --backends "$(BACKENDS)" --profile "$(PROFILE)" --jobs $(JOBS) --out "$(OUT)" --html "$(OUT)"

test: setup
	$(PY) -m maintainer.matrix --backends "$(BACKENDS)"

baseline: setup
	$(PY) -m maintainer.baseline refresh

# Not part of `make test`: about 5 minutes on 2 CPU cores.
bench: setup
	$(PY) -m maintainer.bench --backends "$(BACKENDS)" --out "$(BENCH_OUT)"

lab: setup
	@$(PY) -c "from dlwp_utils.backend import parse_backends; import sys; parse_backends('$(BACKENDS)')" || exit 2
	@echo "JupyterLab with KERAS_BACKEND=$(firstword $(subst $(comma), ,$(BACKENDS))) (another: make lab BACKENDS=torch)"
	KERAS_BACKEND=$(firstword $(subst $(comma), ,$(BACKENDS))) $(VENV)/bin/jupyter lab --ip 127.0.0.1 --no-browser

hygiene: setup
	$(PY) -m maintainer.hygiene check

clean:
	rm -rf build

comma := ,
