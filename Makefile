# Every target sets up .venv from the lock file first, so a fresh clone needs one command.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: setup demo test test-all clean

$(UV):
	python3 -m venv .tools && .tools/bin/pip install -q uv

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/techcredit demo

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -n 2 -m "not slow" -p no:cacheprovider

test-all: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2

clean:
	rm -rf .techcredit .pytest_cache
