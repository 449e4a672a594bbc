# Two commands: `make lab` to learn, `make test` to check. Both set up .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.course-installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: help install lab test test-unit test-notebooks test-ui render clean

help:
	@echo "make lab     set up .venv (once) and open JupyterLab on the first notebook"
	@echo "make test    set up .venv (once), run the unit tests and every notebook in fast mode"
	@echo "make render  run every notebook in full mode and save its outputs"

# Re-install when the pins or the package metadata change.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
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

render: install
	$(BIN)/python tools/render_notebooks.py $(NOTEBOOKS)

clean:
	rm -rf $(VENV) .pytest_cache
