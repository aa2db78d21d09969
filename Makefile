# Nexus Canvas — set-up and everyday commands. `make run` and `make test` are all a fresh
# machine needs (Python 3.11+, Node 18+ with npm).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
NODESTAMP := tests/interop/node_modules/.installed

.PHONY: run test install install-dev tools lint typecheck check clean

run: install ## install the server and run it on the embedded defaults
	$(VENV)/bin/nexus-canvas serve $(ARGS)

test: install-dev $(NODESTAMP) tools ## install test dependencies and run the whole suite
	$(PY) -m pytest $(PYTEST_ARGS)

install: $(STAMP)
install-dev: $(DEVSTAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(DEVSTAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP) $@

$(NODESTAMP): tests/interop/package.json tests/interop/package-lock.json
	npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
	touch $@

# Debian's docker-compose validates docker-compose.yml without a Docker engine (tests use it).
tools:
	@command -v docker-compose >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq docker-compose) >/dev/null; \
	  else \
	    echo "note: docker-compose missing (apt-get install docker-compose); its test will skip"; \
	  fi; }

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) tests/interop/node_modules data
