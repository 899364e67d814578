# Two commands on a fresh machine with only Python 3.11 and pip: `make demo`, `make test`.
# .venv is bootstrapped from nothing: a venv, uv inside it, then `uv sync --frozen` from uv.lock.
PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: demo test bench lint fmt dev render-report clean setup

$(VENV)/.synced: pyproject.toml uv.lock
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(VENV)/bin/uv sync --frozen --quiet --compile-bytecode
	# the project itself is installed editable, which --compile-bytecode leaves out: compiled
	# here, the first `ratedeck` after setup does not compile ~100 modules (about 1 s)
	$(VENV)/bin/python -m compileall -q pipeline
	touch $@

setup: $(VENV)/.synced

demo: setup
	$(VENV)/bin/ratedeck demo

test: setup
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile -q

bench: setup
	$(VENV)/bin/python -m benchmarks

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

dev: setup
	$(VENV)/bin/python -c "from pipeline.orchestrate import prepare_dagster_home; from pipeline.settings import load_settings; prepare_dagster_home(load_settings())"
	DAGSTER_HOME=$${DAGSTER_HOME:-$(abspath data/dagster_home)} $(VENV)/bin/dagster dev -w dagster_workspace.yaml

render-report: setup
	$(VENV)/bin/python -m pipeline.reports.render_png

clean:
	rm -rf $(VENV) data/raw data/outbox data/reports data/dagster_home data/state data/*.duckdb*
