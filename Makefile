# Every target sets up .venv from the lock file first, so a fresh clone needs one command.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: setup demo test test-all clean postgres

$(UV):
	python3 -m venv .tools && .tools/bin/pip install -q uv

$(STAMP): pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --all-groups
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/techcredit demo

# The database tests run on SQLite and on the local PostgreSQL (127.0.0.1:5432), started here
# when it is not running; where it cannot start, its tests are skipped and say why.
postgres:
	@if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1; then :; \
	elif command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then \
	  pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | tail -1) main start \
	    || echo "PostgreSQL did not start: its tests will be skipped"; \
	else echo "no PostgreSQL here: its tests will be skipped"; fi

# Three workers on two cores: many end-to-end tests wait on subprocesses and servers
# (measured on a clean clone: 8m45s with -n 3, 9m23s with -n 2).
test: $(STAMP) postgres
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -n 3 -m "not slow" -p no:cacheprovider

test-all: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2

clean:
	rm -rf .techcredit .pytest_cache
