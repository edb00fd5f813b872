# The project's commands. Everything runs inside .venv, created from requirements.lock.
#   make lab        set up, then open the notebooks in JupyterLab
#   make test       set up, then run every test (lint, unit tests, strict nbval over all notebooks,
#                   JupyterLab in a headless Chromium, the static site in a headless Chromium)
#   make notebooks  re-execute every notebook in a fresh kernel and write the outputs back
#   make site       render the executed notebooks to static HTML in build/site/ (read without installing)
#   make bench      time our code against its reference implementations at full size (1 to 2 minutes on 2 cores)
#                   and print one table; results go to build/benchmarks/ only, never to a committed file.
#                   `.venv/bin/python benchmarks/run.py --quick` runs every benchmark at tiny sizes in seconds
#                   (tests/test_benchmarks.py does). gensim, for bench_embeddings' comparison, is optional:
#                   benchmarks/requirements.txt installs it beside .venv (then `PYTHONPATH=/tmp/gensimlib make ...`)
#   make bench-results  make bench, and also rewrite the committed benchmarks/results/embeddings.json that
#                   notebook 01 prints (benchmarks/run.py --write-results; refused without gensim)
#   make replicate  rerun every seeded comparison of the notebooks on fresh seeds (seeds 100-104): held / weaker /
#                   flipped / stronger per claim (scripts/replicate.py; NOTEBOOKS=... for some)
# TORCH=cpu (default): on Linux, PyTorch's CPU-only build from its CPU wheel index (or pip's own configured
# sources); TORCH=cuda: PyPI's build, with CUDA libraries on Linux (scripts/install_torch.py).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
TORCH ?= cpu
STAMP := $(VENV)/.installed-torch-$(TORCH)
PIP := $(BIN)/python -m pip --disable-pip-version-check
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg
PYTEST_ARGS ?=
# make test's processes: both cores of the machines CI uses (nbval runs each notebook in one process; each
# notebook fixes its own thread count, so the outputs do not depend on this number). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
LAB_PORT ?= 8888

.PHONY: setup browser data kernel lab test lint notebooks site bench bench-results replicate replicate-results figures lock clean

setup: $(STAMP) data kernel

$(STAMP): requirements.lock pyproject.toml scripts/install_torch.py
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else print(f"warning: the lock was made for Python 3.11, this is {v[0]}.{v[1]}"))' || true
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/install_torch.py $(TORCH)
	$(PIP) install --quiet -r requirements.lock
	$(PIP) install --quiet --no-deps -e .
	@rm -f $(VENV)/.installed*
	@touch $@

data: $(STAMP)
	@$(BIN)/python -m helpers.data

# Debian's Chromium for tests/test_browser.py and a CJK font for tests/test_site.py, installed where missing
# (as root, with apt-get).
browser:
	@scripts/install_browser.sh --optional

# The kernel spec carries MPLCONFIGDIR, MATPLOTLIBRC and IPYTHONDIR inside .venv/etc/: nothing in the home
# folder (a font cache, a matplotlibrc, an IPython startup file) can change an output (scripts/project_kernel.py).
kernel: $(STAMP)
	@$(BIN)/python scripts/project_kernel.py

# Served from the project root (the notebooks' ../assets images must be reachable), opened in notebooks/,
# with the project's JupyterLab settings (jupyterlab-settings/overrides.json: no "Jupyter news" pop-up; the
# default kernel, the project's, starts where JupyterLab has no kernel name yet, instead of "Select Kernel").
lab: setup
	$(BIN)/jupyter lab --allow-root --port=$(LAB_PORT) --LabApp.default_url=/lab/tree/notebooks --LabApp.app_settings_dir=$(CURDIR)/jupyterlab-settings --MultiKernelManager.default_kernel_name=applied-dl-notebooks

# ruff format decides the layout of every .py file (notebook cells are laid out by hand; pyproject.toml);
# ruff check finds errors and unsorted imports in both.
lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

test: setup browser lint
	HELPERS_DEVICE=cpu $(BIN)/python -m pytest tests notebooks $(NBVAL) -n $(TEST_WORKERS) --dist loadscope $(PYTEST_ARGS) || status=$$?; \
	if [ "$${status:-0}" = 5 ]; then echo "pytest collected no tests: that is a failure here" >&2; exit 1; fi; \
	exit $${status:-0}

notebooks: setup
	$(BIN)/python scripts/run_notebooks.py $(NOTEBOOKS)

# The executed notebooks as static HTML in build/site/ (index.html first), readable offline: MathJax comes
# from a pinned wheel, kept in build/mathjax/ (scripts/build_site.py).
site: $(STAMP)
	$(BIN)/python scripts/build_site.py

bench: setup
	$(BIN)/python benchmarks/run.py

bench-results: setup
	$(BIN)/python benchmarks/run.py --write-results

# Every seeded comparison of the notebooks rerun on fresh seeds (scripts/replicate.py): one line per claim,
# the table in build/replication/; replicate-results also updates benchmarks/results/replication.md.
# Not part of make test: up to 10 minutes per notebook. Some: make replicate NOTEBOOKS=notebooks/01_word_embeddings.ipynb
replicate: setup
	$(BIN)/python scripts/replicate.py $(NOTEBOOKS)

replicate-results: setup
	$(BIN)/python scripts/replicate.py --write-results $(NOTEBOOKS)

figures: $(STAMP)
	$(BIN)/python scripts/make_figures.py

# Rebuild requirements.lock from requirements.in in a throw-away environment.
lock:
	rm -rf build/lock-venv && $(PYTHON) -m venv build/lock-venv
	build/lock-venv/bin/python scripts/install_torch.py cpu  # else PyPI's CUDA libraries would enter the lock
	build/lock-venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.in
	{ sed -n '1,3p' requirements.lock; build/lock-venv/bin/python -m pip freeze \
	  | sed -E 's/^torch==([0-9.]+)\+cpu$$/torch==\1/'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock && rm -rf build/lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts build
