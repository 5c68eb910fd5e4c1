# The two commands: `make run` (install + console on the embedded SQLite database) and
# `make test` (install + the whole suite). Everything else here is for maintainers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCALES := zh_Hans zh_Hant en

.PHONY: run test install locales lock extract-messages update-messages hant-messages bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall only when the dependencies change.
$(VENV)/.install-stamp: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.install-stamp locales

locales: $(VENV)/.install-stamp
	$(BIN)/pybabel compile -d locales -D messages

run: install
	$(BIN)/huhuqing db upgrade
	$(BIN)/huhuqing demo
	$(BIN)/huhuqing chat

test: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	sh tools/ensure_test_packages.sh
	$(BIN)/python -m pytest -n 2 --dist loadfile  # two processes, a module each at a time

# Translators: extract new strings, merge them into the catalogs, translate, compile.
extract-messages: $(VENV)/.install-stamp
	$(BIN)/pybabel extract -F babel.cfg -k __ -k lazy_gettext --no-location \
		--project huhuqing -o locales/messages.pot bot handlers knowledge grievances web

update-messages: extract-messages
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching

# The image's exact dependencies (requirements.lock) from pyproject.toml, resolved by uv.
lock: $(VENV)/.install-stamp
	$(BIN)/pip install --quiet 'uv==0.13.9'
	$(BIN)/python -m tools.lock

bench: install
	$(BIN)/python -m bench.startup

hant-messages: $(VENV)/.install-stamp
	$(BIN)/python -m tools.hant_from_hans
