# The two set-up commands: `make run` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench install migrate deploy worker beat messages mutation

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

migrate: install
	mkdir -p staticfiles media
	$(PY) manage.py migrate --noinput

# Before serving outside Docker: static files (WhiteNoise serves them from STATIC_ROOT), translations, migrations.
deploy: install
	$(PY) manage.py deploy

run: migrate
	$(PY) manage.py rundemo --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) bench/bot_roundtrip.py
	$(PY) bench/aggregate.py
	$(PY) bench/export.py
	$(PY) bench/ws_load.py
	$(PY) bench/ws_load.py --mode three-party
	$(PY) bench/review.py
	$(PY) bench/http_load.py

worker: install
	$(VENV)/bin/celery -A hulic worker --loglevel=INFO

beat: install
	$(VENV)/bin/celery -A hulic beat --loglevel=INFO

messages: install
	$(PY) manage.py compilemessages --ignore=.venv

# Mutation testing of the critical modules, one module at a time (slow: minutes per module; see docs/testing.md).
# `make mutation MODULES="netguard signing"` for some of them.
mutation: install
	$(PY) tools/mutation.py $(MODULES)
