# The two commands of this repository (see README.md):
#   make run    execute every notebook on every backend (embedded profile) -> build/index.html, build/report.md
#   make test   unit tests, notebook hygiene, nbval on every notebook x backend, floors, baseline, browser checks
# Both create .venv and install requirements.txt first if needed. `make help` lists every target.
# The same tests under the two other dependency sets (neither is part of `make test` or .ci/run):
#   make test-colab    Colab's versions (constraints/colab.txt) on Colab's Python 3.13 -> .venv-colab
#   make test-latest   the newest release of everything requirements.txt names      -> .venv-latest

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
BOOK_COST_OUT := $(if $(PUBLISH),benchmarks/book-cost,build/book-cost)

.PHONY: help setup run test baseline spread bench book-cost lab hygiene clean test-colab test-latest colab-constraints standin tiny-gemma

help:
	@echo "Targets:"
	@echo "  make run        execute every notebook on every backend -> $(OUT)/index.html (HTML report), $(OUT)/report.md"
	@echo "  make test       unit tests, hygiene, every notebook under nbval per backend, a second run, the metric"
	@echo "                  floors and baseline, the HTML report and JupyterLab in headless Chromium (.ci/run runs this)"
	@echo "  make baseline   after make test: record its metrics as tests/results/baseline.json, saying what changed"
	@echo "  make spread     run notebooks under what another machine changes (threads, ISA, seeds) -> tests/results/spread/"
	@echo "                  (the baseline's tolerances; NOTEBOOKS= VARIATIONS= to choose; about an hour for all)"
	@echo "  make bench      ms per training step per backend and native PyTorch -> $(BENCH_OUT)/ (PUBLISH=1: benchmarks/)"
	@echo "  make book-cost  each notebook's minutes and peak memory at the book's sizes on a free T4 -> $(BOOK_COST_OUT)/"
	@echo "                  (estimated from models measured here; PUBLISH=1: benchmarks/book-cost/; BACKENDS= NOTEBOOKS="
	@echo "                  to choose; about 15 minutes a backend on 2 CPU cores)"
	@echo "  make lab        JupyterLab in the venv on 127.0.0.1, KERAS_BACKEND = the first of BACKENDS"
	@echo "  make hygiene    the notebook checks alone"
	@echo "  make setup      create $(VENV) and install requirements.txt and dlwp_utils (the others do it themselves)"
	@echo "  make test-colab the same tests on Colab's versions (constraints/colab.txt, Python 3.13) in .venv-colab"
	@echo "  make test-latest the same tests on the newest release of every requirement in .venv-latest"
	@echo "  make colab-constraints  rewrite constraints/colab.txt from Colab's newest published freeze"
	@echo "  make standin    rebuild the committed VGG16 stand-in for ImageNet (dlwp_utils/data/assets), then commit it"
	@echo "  make tiny-gemma rebuild the committed tiny Gemma preset (dlwp_utils/data/assets/tiny_gemma), then commit it"
	@echo "  make clean      remove build/"
	@echo "Variables (now):"
	@echo "  BACKENDS=$(BACKENDS)   comma-separated: jax, tensorflow, torch"
	@echo "  PROFILE=$(PROFILE)     make run's profile: embedded (offline) or book (real data, book sizes)"
	@echo "  JOBS=$(JOBS)           notebooks make run executes at once"
	@echo "  OUT=$(OUT)             make run's output folder"
	@echo "  PUBLISH=$(PUBLISH)     make bench into the committed benchmarks/ when set"
	@echo "  PYTHON=$(PYTHON) VENV=$(VENV)"
	@echo "  COLAB_PYTHON=$(COLAB_PYTHON) LATEST_PYTHON=$(LATEST_PYTHON) TORCH_LATEST=$(TORCH_LATEST)   for test-colab / test-latest"

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

# How far each metric moves under what another machine changes: every notebook x backend x variation
# (maintainer/spread.py), then the committed tables the baseline's tolerances come from.
NOTEBOOKS ?=
VARIATIONS ?= default,threads1,avx2,seed1
spread: setup
	$(PY) -m maintainer.spread run $(NOTEBOOKS) --backends "$(BACKENDS)" --variations "$(VARIATIONS)" --jobs 2
	$(PY) -m maintainer.spread tables

# Not part of `make test`: ms per training step of each chapter's model on each backend and in native
# PyTorch, in interleaved rounds (about 16 minutes on 2 CPU cores, with the variants).
bench: setup
	$(PY) -m maintainer.bench --backends "$(BACKENDS)" --out "$(BENCH_OUT)"

# Not part of `make test`: each notebook's heaviest models at the book's sizes, one process each (peak memory,
# step times), and its minutes on a free Colab T4 estimated from its step counts (maintainer/book_cost.py).
book-cost: setup
	$(PY) -m maintainer.book_cost $(NOTEBOOKS) --backends "$(BACKENDS)" --out "$(BOOK_COST_OUT)"

lab: setup
	@$(PY) -c "from dlwp_utils.backend import parse_backends; import sys; parse_backends('$(BACKENDS)')" || exit 2
	@echo "JupyterLab with KERAS_BACKEND=$(firstword $(subst $(comma), ,$(BACKENDS))) (another: make lab BACKENDS=torch)"
	KERAS_BACKEND=$(firstword $(subst $(comma), ,$(BACKENDS))) $(VENV)/bin/jupyter lab --ip 127.0.0.1 --no-browser

# --- the other dependency sets (maintainer/depsets.py says how each one is installed) ---------------
# Judged by the floors, not by the baseline: tests/results/baseline.json records requirements.txt's versions.
# Colab's Python (constraints/colab.txt's header). .venv-colab takes about 7.5 GB with PyPI's torch.
COLAB_PYTHON ?= python3.13
LATEST_PYTHON ?= $(PYTHON)
# The torch requirement of the newest set. A bare `torch` from PyPI is a CUDA build of several GB:
# on a CPU machine add PyTorch's CPU index (PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu).
TORCH_LATEST ?= torch
COLAB_VENV := .venv-colab
LATEST_VENV := .venv-latest

# Rebuilt from nothing when the set changes: a leftover newer package would not be Colab's version.
$(COLAB_VENV)/.dlwp-installed: requirements.txt constraints/colab.txt pyproject.toml maintainer/depsets.py
	@$(COLAB_PYTHON) -c "" 2>/dev/null || { echo "error: '$(COLAB_PYTHON)' (Colab's Python) does not run here, so $(COLAB_VENV) was left as it is. Install Python 3.13 or name it: make test-colab COLAB_PYTHON=/path/to/python3.13" >&2; exit 2; }
	rm -rf $(COLAB_VENV)
	$(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m maintainer.depsets install colab
	@touch $@

test-colab: $(COLAB_VENV)/.dlwp-installed
	$(COLAB_VENV)/bin/python -m maintainer.depsets versions colab
	$(COLAB_VENV)/bin/python -m maintainer.matrix --backends "$(BACKENDS)" --other-versions

# Upgraded on every run: the point is to meet each new release within a week.
test-latest:
	@test -x $(LATEST_VENV)/bin/python || $(LATEST_PYTHON) -m venv $(LATEST_VENV) || { echo "error: could not create $(LATEST_VENV) with '$(LATEST_PYTHON)'. Name a Python that runs: make test-latest LATEST_PYTHON=/path/to/python3" >&2; exit 2; }
	$(LATEST_VENV)/bin/python -m maintainer.depsets install latest --torch "$(TORCH_LATEST)"
	$(LATEST_VENV)/bin/python -m maintainer.matrix --backends "$(BACKENDS)" --other-versions

# Rewrite constraints/colab.txt from Colab's newest published freeze (googlecolab/backend-info).
colab-constraints:
	$(PYTHON) -m maintainer.colab_constraints

# The embedded profile's VGG16 weights: pretrained on a generated source task (about 20 minutes on
# 2 CPU cores, on torch), too long for a notebook's first use, so built here and committed.
standin: setup
	KERAS_BACKEND=torch $(PY) -m dlwp_utils.data.vgg16_standin build

# The embedded profile's Gemma: pretrained in JAX on the CPU (about 2 minutes), whose numbers follow the
# CPU, so built here and committed like the VGG16 stand-in.
tiny-gemma: setup
	$(PY) -m dlwp_utils.data.tiny_gemma build

hygiene: setup
	$(PY) -m maintainer.hygiene check

clean:
	rm -rf build

comma := ,
