# Two commands on a fresh machine: `make quiz` and `make test`.
# The first use creates .venv and installs dlprep (editable) with its dependencies.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.dlprep-installed

.PHONY: quiz test lint bench schema clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

quiz: $(STAMP)
	$(VENV)/bin/dlprep quiz

lint: $(STAMP)
	$(VENV)/bin/ruff check dlprep demos tests bench
	$(VENV)/bin/mypy

test: lint
	$(PY) -m pytest -q

bench: $(STAMP)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

schema: $(STAMP)
	$(VENV)/bin/dlprep bank schema --write

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache
