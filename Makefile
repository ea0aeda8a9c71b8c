# Every target sets up .venv from the lock file first, so a fresh clone needs one command.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: setup system demo test test-all clean postgres

$(UV):
	python3 -m venv .tools && .tools/bin/pip install -q uv

# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (as on these machines) Python never
# caches what it compiles, and every `techcredit` command, test worker and server compiled the
# libraries anew: 3.4 of a CLI flow's 6.4 s on the running stack (docs/benchmarks.md, cli-stack).
# Compiling once at set-up costs about 18 s.
$(STAMP): pyproject.toml uv.lock Makefile | $(UV)
	$(UV) sync --frozen --all-groups --compile-bytecode
	@touch $(STAMP)

# The reports (service/reports) print HTML to PDF with headless Chromium and need a real CJK
# font; the tests read the PDFs back with poppler. Installed only where dpkg lacks them; where
# apt-get cannot run, say why and carry on: the report tests then skip and name the package.
SYSTEM_PACKAGES := chromium fonts-noto-cjk poppler-utils

system:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || printf "%s " $$p; done); \
	missing=$${missing% }; \
	if [ -z "$$missing" ]; then :; \
	elif ! command -v apt-get >/dev/null; then \
	  echo "no apt-get here: install $$missing yourself; the report tests will be skipped"; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "not root: run 'sudo apt-get install $$missing'; the report tests will be skipped"; \
	else echo "installing $$missing"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends $$missing; } \
	    || echo "apt-get could not install $$missing (see above): the report tests will be skipped"; \
	fi

setup: $(STAMP) system

demo: $(STAMP) system
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
test: $(STAMP) system postgres
	$(VENV)/bin/ruff check .
	$(VENV)/bin/python -m pytest -n 3 -m "not slow" -p no:cacheprovider

test-all: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2

clean:
	rm -rf .techcredit .pytest_cache
