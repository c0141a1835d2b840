# `make suite` and `make test` create or refresh the project's own virtual environment, then run.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed

.PHONY: install suite test bench clean

install: $(STAMP)

# torch first, from its CPU build; every later pip call carries the constraints file so nothing pulls
# a newer torch with CUDA packages.
$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt torch==2.13.0
	$(PIP) install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

suite: install
	$(PY) run_suite.py $(ARGS)

test: install
	$(PY) -m pytest $(ARGS)

bench: install
	for script in benchmarks/*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV)
