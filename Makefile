# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
ADDRESS ?= 127.0.0.1
PYTEST_ARGS ?= -n 2

.PHONY: run test install install-test system-deps lint bench reference clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

## make run: install, create the embedded database with the shipped data if empty, start the app
run: install
	@bash scripts/install-system-deps.sh run || \
	  echo "note: without Chromium the app makes HTML progress reports but not PDF ones" >&2
	$(VENV)/bin/spatial init
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.address $(ADDRESS) \
	  --browser.gatherUsageStats false

## system packages the tests need (Chromium, CJK fonts, gdal-bin); apt-installed when root
system-deps:
	bash scripts/install-system-deps.sh

## make test: install everything the tests need and run the whole suite, on SQLite and on a
## throw-away PostgreSQL + PostGIS server started (and stopped) here
test: install-test system-deps
	@url=$$(bash scripts/pg-test-server.sh start) || exit 1; \
	TEST_POSTGRES_URL="$$url" $(PY) -m pytest $(PYTEST_ARGS); status=$$?; \
	bash scripts/pg-test-server.sh stop; exit $$status

lint: install-test
	$(VENV)/bin/ruff check spatial tests app.py scripts benchmarks

## make bench: every benchmark against its baseline; one table to benchmarks/README.md
bench: install
	$(PY) -m pip install --quiet -e ".[bench]"
	bash scripts/install-system-deps.sh  # Chromium (the map page), gdal-bin (ogr2ogr, a baseline)
	@url=$$(bash scripts/pg-test-server.sh start) || url=""; \
	BENCH_POSTGRES_URL="$$url" $(PY) benchmarks/run_all.py; status=$$?; \
	[ -z "$$url" ] || bash scripts/pg-test-server.sh stop; exit $$status

## rebuild geodata/ and seeds/projects.csv from ../shared (maintainers only)
reference: install
	$(PY) scripts/build_reference.py

clean:
	rm -rf $(VENV) var static/vendor .pytest_cache
