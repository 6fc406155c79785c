PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster

.PHONY: setup demo test dev bench lint clean

# pip bootstraps uv at the version the lock file pins; uv installs the lock file (the single source of
# versions) into the venv in seconds, then the project itself, editable, without resolving anything.
$(BIN)/incidents: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $$(grep -i '^uv==' requirements.lock)
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(BIN)/incidents

setup: $(BIN)/incidents
	mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

demo: setup
	$(BIN)/incidents demo

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile -rs tests

dev: setup
	$(BIN)/dagster dev

# Sizes are options: `make bench BENCH_ARGS="--rows 1000000 --repeats 1"` (benchmarks/README.md).
bench: setup
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

lint: setup
	$(BIN)/ruff check pipelines assets tests benchmarks
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) data/raw data/lake data/warehouse.duckdb .dagster/storage reports/*.html
