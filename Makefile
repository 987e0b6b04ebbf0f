# The two commands of the README: `make demo` and `make test`. Everything else is set-up they call.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install browser demo test test-fast lint ui db-stop clean

# Create .venv and install the project from uv.lock (uv itself comes from PyPI into the venv).
$(STAMP): pyproject.toml uv.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv>=0.4,<1"
	@echo "installing the project from uv.lock into $(VENV) (quiet; errors still show)"
	@# --compile-bytecode: uv does not write .pyc files by default (pip does), and where
	@# PYTHONDONTWRITEBYTECODE is set nothing ever writes them, so every dagster step, dbt call and
	@# Scrapy crawl would compile its libraries again (about 4 s of CPU per process).
	@$(BIN)/uv sync --locked --inexact --quiet --compile-bytecode --python $(BIN)/python
	@$(BIN)/python -m orchestration.defs.dbt.project  # dbt manifest via dagster-dbt's preparer (deps + parse)
	@touch $@

install: $(STAMP)

demo: install
	@$(BIN)/smartcart demo

# Headless Chromium + its driver for the shopper page's browser tests (tests/web), from Debian's
# packages when missing; a no-op where both are installed.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver)

test: install browser
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not slow and not integration"

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

ui: install
	$(BIN)/smartcart ui

db-stop:
	$(BIN)/smartcart db stop

clean:
	-$(BIN)/smartcart db stop
	rm -rf $(VENV) .smartcart dbt_project/target dbt_project/logs
