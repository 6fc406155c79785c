PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster

.PHONY: setup demo test dev bench lint clean

$(BIN)/incidents: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(BIN)/incidents

setup: $(BIN)/incidents
	mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

demo: setup
	$(BIN)/incidents demo

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile tests

dev: setup
	$(BIN)/dagster dev

bench: setup
	$(BIN)/python benchmarks/run.py

lint: setup
	$(BIN)/ruff check pipelines assets tests benchmarks
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) data/raw data/lake data/warehouse.duckdb .dagster/storage reports/*.html
