# django-sse: `make demo` runs the demo, `make test` runs the whole suite.
# Both build their own virtualenv in .venv from requirements-dev.txt.

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin

# The newest Python >= 3.11 on the machine (pyenv installs included); override
# with `make test PYTHON=/path/to/python3.12`.
PYTHON ?= $(shell for c in python3.13 python3.12 python3.11 python3; do \
	for p in $$(command -v $$c) $$(ls -d $$HOME/.pyenv/versions/*/bin/$$c 2>/dev/null | sort -rV); do \
	  "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && echo "$$p" && exit 0; \
	done; done)

# The oldest supported pair: Django 5.2 LTS on Python 3.11 (`make test-oldest`).
OLDEST_VENV := .venv-oldest
OLDEST_BIN := $(OLDEST_VENV)/bin
PYTHON_OLDEST ?= $(shell for p in $$(command -v python3.11) $$(ls -d $$HOME/.pyenv/versions/3.11*/bin/python3.11 2>/dev/null | sort -rV); do \
	  "$$p" -c '' >/dev/null 2>&1 && echo "$$p" && exit 0; done)

.PHONY: demo test test-oldest test-newest test-matrix lint docs package pytest bench clean chromium

$(BIN)/.installed: requirements-dev.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "No Python >= 3.11 found; pass PYTHON=..." >&2; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(BIN)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo
	@echo "  django-sse demo: http://127.0.0.1:8000/  (users alice/alice and bob/bob)"
	@echo
	$(BIN)/daphne -b 127.0.0.1 -p 8000 demo_project.asgi:application

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# The browser tests drive Debian's chromium; install it when missing and we are
# root (elsewhere those tests skip with a reason, or fail in CI).
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

pytest: $(BIN)/.installed chromium
	$(BIN)/python -m pytest --cov --cov-report=term --cov-fail-under=90 --durations=15 $(PYTEST_ARGS)

# The documentation site, warnings as errors: a broken link between pages, to a heading
# or to a Python name fails (external links are not fetched: the build is offline).
docs: $(BIN)/.installed
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# The sdist and wheel a release would upload, checked as PyPI would; tests/test_package.py
# installs the wheel into a fresh virtualenv and runs the README's quickstart against it.
package: $(BIN)/.installed
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist . >/dev/null 2>&1 || $(BIN)/python -m build --no-isolation --outdir dist .
	$(BIN)/twine check --strict dist/*

test: lint docs package pytest

$(OLDEST_BIN)/.installed: requirements-dev.txt pyproject.toml
	@test -n "$(PYTHON_OLDEST)" || { echo "No Python 3.11 found; pass PYTHON_OLDEST=..." >&2; exit 1; }
	test -x $(OLDEST_BIN)/python || $(PYTHON_OLDEST) -m venv $(OLDEST_VENV)
	$(OLDEST_BIN)/python -m pip install --quiet --upgrade pip
	$(OLDEST_BIN)/python -m pip install --quiet "Django>=5.2,<5.3" -r requirements-dev.txt
	touch $@

# The suite on Django 5.2 LTS + Python 3.11, with the servers of the end-to-end tests on
# Django's own request path and daphne's own writes (SSE_TEST_ACCELERATIONS=off; the
# in-process fast-path tests still run accelerated). What does not depend on Django's
# version runs once, in `test`: the chaos and Sentinel tests, the browser tests (the JavaScript client
# and the demo) and the gate's one-server-per-private-name tests (which `test-newest`
# runs again on the newest releases).
test-oldest: $(OLDEST_BIN)/.installed
	$(OLDEST_BIN)/mypy
	SSE_TEST_ACCELERATIONS=off $(OLDEST_BIN)/python -m pytest -m "not chaos and not browser" \
	  --ignore=tests/test_gate_e2e.py --ignore=tests/test_sentinel.py -p no:cacheprovider $(PYTEST_ARGS)

# The newest releases of Django, daphne, Twisted and channels, whatever the suite has
# run on: an incompatible release must show as a gate decision, never as a crash.
NEWEST_VENV := .venv-newest
NEWEST_BIN := $(NEWEST_VENV)/bin
NEWEST_TESTS := tests/test_gate.py tests/test_gate_e2e.py tests/test_slow_consumer.py

test-newest:
	test -x $(NEWEST_BIN)/python || $(PYTHON) -m venv $(NEWEST_VENV)
	$(NEWEST_BIN)/python -m pip install --quiet --upgrade pip
	$(NEWEST_BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(NEWEST_BIN)/python -m pip install --quiet --upgrade Django daphne Twisted channels channels-redis asgiref
	DJANGO_SETTINGS_MODULE=tests.settings $(NEWEST_BIN)/python -c 'import django; django.setup(); \
	  from django_sse.server import gate; d = gate.decide(); \
	  print("gate on the newest releases:", sorted(d.on), list(d.reasons))'
	$(NEWEST_BIN)/python -m pytest -p no:cacheprovider $(NEWEST_TESTS) $(PYTEST_ARGS)

test-matrix: test test-oldest test-newest

bench: $(BIN)/.installed
	$(BIN)/python bench/first_number.py

clean:
	rm -rf $(VENV) $(OLDEST_VENV) $(NEWEST_VENV) dist docs/_build .mypy_cache .ruff_cache .pytest_cache .coverage .coverage.*
