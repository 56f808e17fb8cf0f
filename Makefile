# Needs only Python 3.11+ and make: everything else comes from uv.lock.
PYTHON ?= python3
VENV := .venv
BOOTSTRAP := var/bootstrap
UV := $(BOOTSTRAP)/bin/uv
UV_VERSION := 0.13.9
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test e2e lint format bench setup clean backup restore messages

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

# The Persian catalogue: extract the project's messages into locale/fa (needs GNU gettext),
# translate the new ones in django.po, then run it again to compile the committed .mo.
MESSAGES_IGNORE := $(foreach d,.venv var tests static benchmarks docs scripts node_modules locale,--ignore=$(d))
messages: setup
	DJANGO_DEBUG=true $(VENV)/bin/python manage.py makemessages -l fa $(MESSAGES_IGNORE)
	DJANGO_DEBUG=true $(VENV)/bin/python manage.py compilemessages -l fa $(MESSAGES_IGNORE)

bench: setup
	DJANGO_DEBUG=true $(VENV)/bin/python benchmarks/run_all.py

# make backup [OUT=folder]; make restore BACKUP=folder [TARGET=database URL] (README).
backup: setup
	DJANGO_DEBUG=$(or $(DJANGO_DEBUG),true) $(VENV)/bin/python -m config.backup backup $(if $(OUT),--out $(OUT))

restore: setup
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=folder [TARGET=url]"; exit 2; }
	DJANGO_DEBUG=$(or $(DJANGO_DEBUG),true) $(VENV)/bin/python -m config.backup restore $(BACKUP) --create $(if $(TARGET),--target $(TARGET))

clean:
	rm -rf $(VENV) $(BOOTSTRAP)
