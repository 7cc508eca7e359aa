# Two commands on a fresh machine: `make quiz` and `make test`.
# The first use creates .venv and installs dlprep (editable) with its dependencies.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.dlprep-installed
# pytest-xdist workers: the CPU count, at most 2 (more only adds start-up and contention on
# the small machines this runs on). `make test TEST_JOBS=0` runs in one process.
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ "$$n" -gt 2 ] && n=2; echo $$n)

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
	$(PY) -m pytest -q -n $(TEST_JOBS) --dist loadfile

bench: $(STAMP)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

schema: $(STAMP)
	$(VENV)/bin/dlprep bank schema --write

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache
