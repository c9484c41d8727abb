# Sampan: `make demo` runs the product, `make test` runs every check.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTHON ?= python3

.PHONY: install web browser demo serve test lint format bench clean

# The console (web/) is built into src/sampan/webui when missing or older than its sources.
WEBUI := src/sampan/webui/index.html
WEB_SOURCES := $(shell find web -path web/node_modules -prune -o -type f -print 2>/dev/null)
E2E_DEPS := tests/e2e/node_modules/.package-lock.json

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

web/node_modules/.package-lock.json: web/package-lock.json
	@command -v npm >/dev/null || { echo "The console needs Node 20.19+ and npm to build."; exit 1; }
	cd web && npm ci --no-audit --no-fund
	@touch $@

$(WEBUI): web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

web: $(WEBUI)

$(E2E_DEPS): tests/e2e/package-lock.json
	cd tests/e2e && npm ci --no-audit --no-fund
	@touch $@

# Browser tests drive Debian's chromium with playwright-core (no browser download).
browser: $(E2E_DEPS)
	@command -v chromium >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

demo: $(STAMP) $(WEBUI)
	$(VENV)/bin/sampan demo

serve: $(STAMP) $(WEBUI)
	$(VENV)/bin/sampan serve

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy src
	$(VENV)/bin/lint-imports

test: $(STAMP) lint $(WEBUI) browser
	SAMPAN_TEST_POSTGRES_URL="$$(scripts/test-postgres.sh)" $(PY) -m pytest -q

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix src tests bench

bench: $(STAMP) $(WEBUI) browser
	$(PY) -m bench.ingest
	$(PY) -m bench.identity
	$(PY) -m bench.lookup
	$(PY) -m bench.segments
	$(PY) -m bench.messaging
	$(PY) -m bench.journeys
	$(PY) -m bench.commerce
	$(PY) -m bench.console

clean:
	rm -rf $(VENV) sampan-data .pytest_cache .mypy_cache .ruff_cache
	rm -rf web/node_modules tests/e2e/node_modules src/sampan/webui
