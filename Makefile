# CivicGrid — short targets. `make demo` and `make test` work on a fresh machine: they install what they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
PY := .venv/bin/python
VENDOR := src/civicgrid/web/static/vendor
DEMO_DB ?= var/civicgrid.db
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help install assets browser demo serve test test-sqlite test-postgres bench lint format clean

help:
	@echo "make demo    — install, build the demo district (SQLite) and serve http://$(HOST):$(PORT)"
	@echo "make test    — install and run the whole suite on SQLite and PostgreSQL (and in Chromium)"
	@echo "make bench   — run the benchmarks in bench/ and print their figures"
	@echo "make lint    — ruff and mypy"

.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==0.13.9

.venv/.installed: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

$(VENDOR)/.installed: node_modules/.installed
	rm -rf $(VENDOR)/leaflet
	mkdir -p $(VENDOR)/leaflet $(VENDOR)/echarts $(VENDOR)/htmx
	# Only what the pages load: the minified build, its stylesheet and marker images.
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/leaflet/
	cp -r node_modules/leaflet/dist/images $(VENDOR)/leaflet/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/echarts/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	rm -rf $(VENDOR)/markercluster $(VENDOR)/swagger-ui $(VENDOR)/redoc $(VENDOR)/axe
	mkdir -p $(VENDOR)/markercluster $(VENDOR)/swagger-ui $(VENDOR)/redoc $(VENDOR)/axe
	cp node_modules/leaflet.markercluster/dist/leaflet.markercluster.js \
	   node_modules/leaflet.markercluster/dist/MarkerCluster.css \
	   node_modules/leaflet.markercluster/dist/MarkerCluster.Default.css $(VENDOR)/markercluster/
	# The API docs (/docs, /redoc) load these from our origin, so they work on an intranet.
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/swagger-ui/
	cp node_modules/redoc/bundles/redoc.standalone.js $(VENDOR)/redoc/
	# axe-core is injected by the browser tests only (accessibility checks); pages never load it.
	cp node_modules/axe-core/axe.min.js $(VENDOR)/axe/
	touch $@

assets: $(VENDOR)/.installed

install: .venv/.installed assets

# Debian's Chromium for the browser tests (Playwright drives it through executable_path), and a CJK font so
# the screenshots in test-artifacts/web/ show Chinese text rather than empty boxes.
browser:
	@{ command -v chromium >/dev/null 2>&1 && fc-list :lang=zh | grep -q .; } || { \
	  echo "Installing Debian's chromium and a CJK font for the browser tests…"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
	  || { echo "Could not install chromium and fonts-wqy-microhei (needs root and the Debian mirror)"; exit 1; }; }

$(DEMO_DB):
	CIVICGRID_DATABASE_URL=sqlite:///$(DEMO_DB) .venv/bin/civicgrid init --demo

# Beside the web server: the HJ 212 listener and the station simulator feeding it (live data on /stations, /wall).
demo: install $(DEMO_DB)
	@export CIVICGRID_DATABASE_URL=sqlite:///$(DEMO_DB) CIVICGRID_MONITORING_SIMULATE=true \
	  CIVICGRID_MONITORING_HJ212_HOST=$(HOST); \
	.venv/bin/civicgrid services run hj212 station-simulator & services=$$!; \
	trap 'kill $$services 2>/dev/null; wait $$services' EXIT; \
	.venv/bin/civicgrid serve --host $(HOST) --port $(PORT)

serve: install
	CIVICGRID_DATABASE_URL=sqlite:///$(DEMO_DB) .venv/bin/civicgrid serve --host $(HOST) --port $(PORT)

test: install browser
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

# Slow drills (crash, replica, load; marked `slow`) run in CI (CI=true) and with `make test SLOW=1`; a local
# `make test` leaves them out to stay within 20 minutes on a 2-core machine. The slowest tests are listed at the end.
SLOW ?= $(filter true,$(CI))
NOT_SLOW := $(if $(SLOW),,and not slow)
PYTEST_RUN := .venv/bin/pytest --durations=15

test-sqlite:
	CIVICGRID_TEST_DB=sqlite $(PYTEST_RUN) $(if $(SLOW),,-m "not slow")

test-postgres:
	CIVICGRID_TEST_DB=postgresql $(PYTEST_RUN) -m "db and not browser $(NOT_SLOW)"

bench: install browser
	@command -v wrk >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)
	@for f in bench/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

lint: install
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench
	.venv/bin/mypy
	.venv/bin/lint-imports

format: install
	.venv/bin/ruff format src tests bench
	.venv/bin/ruff check --fix src tests bench

clean:
	rm -rf .venv .tools node_modules $(VENDOR) var .pytest_cache .mypy_cache .ruff_cache
