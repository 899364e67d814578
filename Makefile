# Two commands on a fresh machine with only Python 3.11 and pip: `make demo`, `make test`.
# .venv is bootstrapped from nothing: a venv, uv inside it, then `uv sync --frozen` from uv.lock.
PYTHON ?= python3
VENV := .venv
UV_VERSION := 0.13.8
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: demo test test-fast bench lint typecheck fmt dev render-report clean setup

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

# everything but the tests marked slow (subprocess runs, full pipelines, long simulations)
test-fast: setup
	$(VENV)/bin/python -m pytest -n 2 --dist loadfile -q -m "not slow"

bench: setup
	$(VENV)/bin/python -m benchmarks

lint: typecheck
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy reads its settings (pydantic plugin, strict layers) from pyproject.toml
typecheck: setup
	$(VENV)/bin/mypy pipeline

fmt: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

dev: setup
	$(VENV)/bin/python -m pipeline.deploy
	DAGSTER_HOME=$${DAGSTER_HOME:-$(abspath data/dagster_home)} $(VENV)/bin/dagster dev -w dagster_workspace.yaml

render-report: setup
	$(VENV)/bin/python -m pipeline.reports.render_png

clean:
	rm -rf $(VENV) data/raw data/outbox data/reports data/dagster_home data/state data/*.duckdb*
