# Sampan: `make demo` runs the product, `make test` runs every check.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: install demo serve test lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/sampan demo

serve: $(STAMP)
	$(VENV)/bin/sampan serve

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy src
	$(VENV)/bin/lint-imports

test: $(STAMP) lint
	SAMPAN_TEST_POSTGRES_URL="$$(scripts/test-postgres.sh)" $(PY) -m pytest -q

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix src tests bench

bench: $(STAMP)
	$(PY) -m bench.ingest
	$(PY) -m bench.identity
	$(PY) -m bench.lookup
	$(PY) -m bench.segments
	$(PY) -m bench.messaging
	$(PY) -m bench.journeys
	$(PY) -m bench.commerce

clean:
	rm -rf $(VENV) sampan-data .pytest_cache .mypy_cache .ruff_cache
