# Haven: `make run` serves on http://127.0.0.1:5000; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := wsgi

.PHONY: run test setup deps assets migrate lint typecheck test-load bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

deps: $(VENV)/.installed node_modules/.installed

assets: deps
	$(PY) -m forum.assets

migrate: deps
	$(PY) -m flask db upgrade
	$(PY) -m flask seed

setup: deps assets migrate

run: setup
	HOST=$(HOST) PORT=$(PORT) $(PY) wsgi.py

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# The whole suite on SQLite, then again on PostgreSQL when it is reachable (required in CI).
test: setup lint
	$(PY) -m pytest -m "not load" $(PYTEST_ARGS)
	@$(PY) -m tests.services postgres; status=$$?; \
	if [ $$status -eq 0 ]; then HAVEN_TEST_DATABASE=postgresql $(PY) -m pytest -m "not load" $(PYTEST_ARGS); \
	elif [ $$status -eq 2 ]; then exit 1; \
	else echo "PostgreSQL not reachable: PostgreSQL run skipped"; fi

# 200 chat members and 20 posters for 60 s against two processes on a private PostgreSQL and Redis,
# then the same with Redis and PostgreSQL restarted and a process killed (about 6 minutes).
test-load: setup
	$(PY) -m pytest tests/load -m load $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules forum/static/vendor .pytest_cache .ruff_cache .mypy_cache
