# The two commands of this repository (see README.md):
#   make run    execute every notebook on every backend (embedded profile) -> build/report.md
#   make test   unit tests, notebook hygiene, nbval on every notebook x backend, metric floors
# The same tests under the two other dependency sets (neither is part of `make test` or .ci/run):
#   make test-colab    Colab's versions (constraints/colab.txt) on Colab's Python 3.13 -> .venv-colab
#   make test-latest   the newest release of everything requirements.txt names      -> .venv-latest
# Both create .venv and install requirements.txt first if needed. One backend: BACKENDS=torch

PYTHON ?= python3
VENV ?= .venv
BACKENDS ?= jax,tensorflow,torch
JOBS ?= 1
OUT ?= build
PY := $(VENV)/bin/python
STAMP := $(VENV)/.dlwp-installed

.PHONY: setup run test bench hygiene clean test-colab test-latest colab-constraints

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -e .
	@touch $@

run: setup
	$(PY) -m maintainer.run --backends "$(BACKENDS)" --jobs $(JOBS) --out "$(OUT)"

test: setup
	$(PY) -m maintainer.matrix --backends "$(BACKENDS)"

# --- the other dependency sets (maintainer/depsets.py says how each one is installed) ---------------
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
	rm -rf $(COLAB_VENV)
	$(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m maintainer.depsets install colab
	@touch $@

test-colab: $(COLAB_VENV)/.dlwp-installed
	$(COLAB_VENV)/bin/python -m maintainer.depsets versions colab
	$(COLAB_VENV)/bin/python -m maintainer.matrix --backends "$(BACKENDS)"

# Upgraded on every run: the point is to meet each new release within a week.
test-latest:
	@test -x $(LATEST_VENV)/bin/python || $(LATEST_PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m maintainer.depsets install latest --torch "$(TORCH_LATEST)"
	$(LATEST_VENV)/bin/python -m maintainer.matrix --backends "$(BACKENDS)"

# Rewrite constraints/colab.txt from Colab's newest published freeze (googlecolab/backend-info).
colab-constraints:
	$(PYTHON) -m maintainer.colab_constraints

hygiene: setup
	$(PY) -m maintainer.hygiene check

clean:
	rm -rf build

# Not part of `make test`: ms per training step of each chapter's model on each backend and in
# native PyTorch -> benchmarks/results.md and results.png (about 5 minutes on 2 CPU cores).
bench: setup
	$(PY) -m maintainer.bench --backends "$(BACKENDS)"
