# Two commands: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi

.PHONY: run test lint bench audit clean

$(BIN)/activate: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/activate

$(VENV)/.dev-installed: $(BIN)/activate requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# The demo runs in development mode (a local secret key, the phone simulator) unless the
# environment says otherwise; tests set their own mode.
run: export PICKUP_ENV ?= development
run: $(BIN)/activate
	$(BIN)/flask init-db
	$(BIN)/flask demo --if-empty --base-url http://127.0.0.1:8000
# The outbox worker runs beside the server and stops when it does.
	$(BIN)/flask send-outbox --loop & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --config deploy/gunicorn.conf.py --bind 127.0.0.1:8000 wsgi:app

test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

# Every bench/*.py is a benchmark except the helpers the benchmarks share (console_scale.py
# is scale.py's console part).
BENCHMARKS := $(filter-out bench/support.py bench/bare_app.py bench/console_scale.py,$(wildcard bench/*.py))

bench: $(VENV)/.dev-installed
	@for script in $(BENCHMARKS); do echo "== $$script"; $(BIN)/python $$script || exit 1; done

audit: $(VENV)/.dev-installed
	$(BIN)/pip-audit --strict -r requirements.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
