# One place for every set-up step: the Dockerfile runs these same commands.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck check bench migrate install clean teams-package demo

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	$(BIN)/ambassador-bot migrate

# The playground's demo animator is an admin unless you say otherwise; the playground is
# served (on 127.0.0.1 unless AMBASSADOR_HOST says otherwise: then it needs its token).
run: export AMBASSADOR_ADMINS ?= local:anim1
run: export AMBASSADOR_PLAYGROUND ?= 1
run: $(STAMP)
	$(BIN)/ambassador-bot migrate
	$(BIN)/ambassador-bot serve

# A realistic demo community in the playground's workspace (refused on real data: see
# `ambassador-bot demo --help`; DEMO_ARGS="--force" or "--members 500" to change it).
demo: $(STAMP)
	$(BIN)/ambassador-bot migrate
	$(BIN)/ambassador-bot demo $(DEMO_ARGS)

test: $(STAMP)
	$(BIN)/ruff check bot storage tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check bot storage tests bench
	$(BIN)/ruff format --check bot storage tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The Teams app zip to upload (needs MicrosoftAppId and PUBLIC_BASE_URL).
teams-package: $(STAMP)
	$(BIN)/ambassador-bot teams-package --output var/ambassador-teams.zip

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) var/*.db .pytest_cache .mypy_cache .ruff_cache
