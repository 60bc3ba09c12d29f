# One entry point: each target makes the virtual environment it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000
export HERDWATCH_DATABASE_URL ?= sqlite:///herdwatch.db

.PHONY: run test lint typecheck bench clean install messages

# The prerequisite check says in one line what a fresh machine lacks (Python 3.11+ with venv,
# Node.js with npm) instead of failing half-way through the install with a traceback.
$(STAMP): pyproject.toml
	@sh scripts/check_prereqs.sh '$(PYTHON)' '$(VENV)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m maps.assets install
	rm -f $(VENV)/.installed-* && touch $(STAMP)

# The message catalogues, compiled with Babel (scripts/compile_messages.py says why not
# `pybabel compile`): each .po to the .mo beside it (not in
# git). domain/i18n.py reads a .po itself when its .mo is missing or older.
PO := $(wildcard domain/locales/*/LC_MESSAGES/herdwatch.po)
MO := $(PO:.po=.mo)

%.mo: %.po $(STAMP)
	$(BIN)/python scripts/compile_messages.py $< $@

install: $(STAMP) $(MO)

# After changing user-facing text: extract every message (babel.cfg says where) and merge it
# into each language's .po, then translate what is new or fuzzy (tests/test_catalogue.py
# names what is missing). Sorted and without line numbers, so edits merge cleanly.
MESSAGE_PACKAGES := domain geo data maps reports field_api
POT := domain/locales/herdwatch.pot

messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -c TRANSLATORS: --no-location --sort-output \
	  --no-wrap --project=Herdwatch -o $(POT) $(MESSAGE_PACKAGES)
	$(BIN)/pybabel update -i $(POT) -d domain/locales -D herdwatch --no-wrap \
	  --previous --ignore-obsolete --ignore-pot-creation-date

run: $(STAMP) $(MO)
	$(BIN)/herdwatch migrate
	$(BIN)/herdwatch demo --if-empty
	@echo ""
	@echo "Herdwatch is starting on http://$(HOST):$(PORT)"
	@echo "  map viewer:  http://$(HOST):$(PORT)/viewer  (sign in with the researcher token above)"
	@echo "  API docs:    http://$(HOST):$(PORT)/docs    (Authorization: Bearer <token>)"
	@echo "  more users:  $(BIN)/herdwatch users add NAME --role observer|researcher|admin"
	@echo ""
	$(BIN)/herdwatch serve --host $(HOST) --port $(PORT)

# The probe says whether the PostGIS half runs; without HERDWATCH_TEST_POSTGIS_URL it uses a
# local server on 127.0.0.1:5432 when one answers (database herdwatch_test), else it skips.
test: $(STAMP) $(MO)
	$(BIN)/python -m tests.postgis_probe
	HERDWATCH_TEST_POSTGIS_URL="$$($(BIN)/python -m tests.postgis_probe --url)" \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)

PACKAGES := domain geo data maps reports field_api

lint: $(STAMP)
	$(BIN)/ruff check $(PACKAGES) tests bench
	$(BIN)/ruff format --check $(PACKAGES) tests bench
	$(BIN)/mypy $(PACKAGES)

bench: $(STAMP)
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/report.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
