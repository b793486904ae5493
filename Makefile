# Set-up and everyday commands. Every target creates .venv and installs the package with the
# exact versions of constraints.txt if needed, so a fresh clone needs nothing installed by hand.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test lint format bench bench-quality docs docs-test clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[video,test,docs]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lipanomaly demo

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# the whole suite but the Sphinx build (marked `docs`): `make docs-test` runs that, CI runs both
test: lint
	$(PY) -m pytest -n 2 -m "not docs"

docs-test: $(STAMP)
	$(PY) -m pytest -m docs

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

bench-quality: $(STAMP)
	$(PY) benchmarks/bench_quality.py

docs: $(STAMP)
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf docs/_build .pytest_cache .ruff_cache .hypothesis
