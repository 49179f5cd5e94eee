# regiocode — two commands on a fresh machine:
#   make run    set up .venv and run the main job on the bundled demo data
#   make test   set up .venv and run the tests
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export REGIOCODE_HOME ?= $(CURDIR)/var
export DAGSTER_DISABLE_TELEMETRY = 1

.PHONY: install run test lint bench dev docs clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/regiocode refresh

test: install
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: install
	$(BIN)/ruff check dagster_project tests benchmarks

bench: install
	$(BIN)/python benchmarks/e2e.py

# The scheduler and UI: http://127.0.0.1:3000 (schedules and sensors need the daemon, which dagster dev starts).
dev: install
	mkdir -p $(REGIOCODE_HOME)/dagster
	cp -n dagster.yaml $(REGIOCODE_HOME)/dagster/dagster.yaml 2>/dev/null || true
	DAGSTER_HOME=$(REGIOCODE_HOME)/dagster $(BIN)/dagster dev

# dbt docs for the warehouse: http://127.0.0.1:8080
docs: install
	cd dbt && REGIOCODE_WORK_DB=$(REGIOCODE_HOME)/work/regiocode.duckdb ../$(BIN)/dbt docs generate --profiles-dir . \
	  && ../$(BIN)/dbt docs serve --profiles-dir . --port 8080

clean:
	rm -rf dbt/target dbt/logs .pytest_cache
