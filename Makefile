# The two commands: `make run` and `make test`. Both set themselves up on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install migrate bench lint format services-up services-down clean-data backup restore

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet ".[dev]"
	touch $(STAMP)

# Translation catalogs (.po → .mo) are compiled on every install/run/test, with babel (core/catalogs.py).
install: $(STAMP)
	$(BIN)/python -m core.catalogs -q

migrate: install
	$(BIN)/python manage.py migrate --noinput

## run: web + websockets (daphne), Celery worker and beat, with demo data, on http://127.0.0.1:8000
run: install
	@bash scripts/run.sh

## test: the whole suite against real PostgreSQL and Redis (embedded unless DATABASE_URL/REDIS_URL are set)
test: install
	@bash scripts/test.sh

bench: install
	@bash scripts/bench.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

services-up: install
	$(BIN)/python -m config.embedded up

services-down: install
	$(BIN)/python -m config.embedded down

## backup: pg_dump of the database (DATABASE_URL, or the embedded one) into .data/backups/ (BACKUP_DIR)
backup: install
	@bash scripts/backup.sh

## restore: make restore FILE=.data/backups/x.dump (into DATABASE_URL, or RESTORE_DATABASE_URL when set)
restore: install
	@bash scripts/restore.sh "$(FILE)"
