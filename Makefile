# Two commands: `make lab` to learn, `make test` to check. Both set up .venv first.
# Maintainers: edit notebooks/NN_name.py, then `make render NB=NN`; `make lint` before committing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.course-installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: help install lab test test-unit test-notebooks test-ui render sync lint clean

help:
	@echo "make lab     set up .venv (once) and open JupyterLab on the first notebook"
	@echo "             (no NVIDIA GPU? make lab TORCH_INDEX=https://download.pytorch.org/whl/cpu)"
	@echo "make test    set up .venv (once), run the unit tests and every notebook in fast mode"
	@echo "make render  build every notebook from its .py source, run it in full mode, save and stamp it"
	@echo "             (make render NB=07: one notebook; NB=\"05 07\": several)"
	@echo "make sync    copy the .py sources' cells into the .ipynb files without running them (NB= too)"
	@echo "make lint    ruff check, ruff format --check and mypy"

# TORCH_INDEX=https://download.pytorch.org/whl/cpu installs torch and torchvision (at the pinned versions)
# from that index first, e.g. the CPU-only wheels on a laptop without an NVIDIA GPU; everything else,
# and torch itself when the variable is empty, comes from the default index.
TORCH_INDEX ?=
TORCH_PINS = $(shell grep -E '^(torch|torchvision)==' requirements.txt)

# Re-install when the pins or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install --index-url $(TORCH_INDEX) $(TORCH_PINS))
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Jupyter refuses to run as root (containers, some classroom machines) unless told it may.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root)

lab: install
	$(BIN)/jupyter lab $(ROOT_FLAG) notebooks/00_setup_and_tour.ipynb

# pytest exits 5 when it collects nothing; that is not a failure of the course.
# The browser test runs in its own pytest process: Playwright's event loop must not share one with nbval's kernels.
test: install
	COURSE_FAST=1 MPLBACKEND=Agg $(BIN)/python -m pytest tests $(NOTEBOOKS) --ignore=tests/ui \
		--nbval-lax --nbval-current-env --durations=15 ; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]
	$(BIN)/python -m pytest tests/ui -rs ; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]

test-unit: install
	COURSE_FAST=1 MPLBACKEND=Agg $(BIN)/python -m pytest tests --ignore=tests/ui

# JupyterLab in headless Chromium (Debian's `chromium`): run all cells, move a slider, compare images.
test-ui: install
	$(BIN)/python -m pytest tests/ui -s

test-notebooks: install
	COURSE_FAST=1 MPLBACKEND=Agg $(BIN)/python -m pytest $(NOTEBOOKS) --nbval-lax --nbval-current-env

# NB= picks notebooks by number or path (make render NB=07); empty renders them all.
# The source is notebooks/NN_name.py (jupytext py:percent); the .ipynb gets its full-mode outputs and a
# stamp of the code it ran, which tests/test_notebook_sources.py checks.
NB ?=
render: install
	$(BIN)/python tools/render_notebooks.py $(NB)

# For prose-only edits: the cells are copied over and unchanged cells keep their outputs; nothing runs.
sync: install
	$(BIN)/python tools/render_notebooks.py --sync-only $(NB)

LINTED := course_utils tests tools bench $(wildcard notebooks/[0-9][0-9]_*.py)
lint: install
	$(BIN)/ruff check --force-exclude $(LINTED)
	$(BIN)/ruff format --check --force-exclude $(LINTED)
	$(BIN)/mypy course_utils

clean:
	rm -rf $(VENV) .pytest_cache
