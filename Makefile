PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster_home
# A run over a range of days records one planned event per asset, not one per day.
export DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS := 1

.PHONY: help install run dev serve test lint bench backfill clean

help:
	@echo "make run       create .venv, generate the default shop, materialise every asset"
	@echo "make test      run the whole test suite"
	@echo "make dev       start the Dagster UI and daemon on http://127.0.0.1:3000"
	@echo "make backfill START=YYYY-MM-DD END=YYYY-MM-DD   rebuild a range of days"
	@echo "make serve     start the return-risk scoring API on http://127.0.0.1:8000 (needs SEGMENTATION_API_KEY)"
	@echo "make bench     run the benchmark; figures go to data/reports/benchmark.{json,md}"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

$(DAGSTER_HOME)/dagster.yaml: | install
	$(BIN)/python -m segmentation_pipeline.run --write-instance-config

run: $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m segmentation_pipeline.run

backfill: $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m segmentation_pipeline.run --start $(START) --end $(END)

dev: $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dg dev --host 127.0.0.1 --port 3000

serve: install
	$(BIN)/python -m segmentation_pipeline.serving

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check segmentation_pipeline segmentation_pipeline_tests
	$(BIN)/ruff format --check segmentation_pipeline segmentation_pipeline_tests

bench: install
	$(BIN)/python -m segmentation_pipeline.benchmark

clean:
	rm -rf data/warehouse data/reports data/bench data/models data/serving data/exports $(DAGSTER_HOME)
