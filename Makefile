# Needs only Python 3.11+ and make: everything else comes from uv.lock.
PYTHON ?= python3
VENV := .venv
BOOTSTRAP := var/bootstrap
UV := $(BOOTSTRAP)/bin/uv
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test e2e lint format bench setup clean

setup: $(VENV)/.synced

$(UV):
	$(PYTHON) -m venv $(BOOTSTRAP)
	$(BOOTSTRAP)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

run: setup
	DJANGO_DEBUG=true $(VENV)/bin/python scripts/run_stack.py

test: setup
	DJANGO_DEBUG=true $(VENV)/bin/pytest -m "not e2e" $(PYTEST_ARGS)

e2e: setup
	DJANGO_DEBUG=true $(VENV)/bin/pytest -m e2e tests/e2e $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DJANGO_DEBUG=true $(VENV)/bin/mypy

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: setup
	DJANGO_DEBUG=true $(VENV)/bin/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(BOOTSTRAP)
