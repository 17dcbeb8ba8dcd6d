# Two commands do all set-up on a fresh machine:
#   make run    -> virtual environment + pinned packages, then `python run_all.py --methods all`
#   make test   -> the same environment, then the test suite
# Re-running reuses the environment until requirements.lock changes.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum requirements.lock | cut -d' ' -f1)
ARGS ?=

.PHONY: run test venv lock clean

venv: $(STAMP)

# requirements.lock pins every package the suite and its tests use, the optional groups of
# pyproject.toml included (encoders, Ray, PostgreSQL driver): one environment, reproducible.
$(STAMP): requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(PY) run_all.py --methods all $(ARGS)

test: $(STAMP)
	$(PY) -m pytest $(ARGS)

# Re-pin after changing dependencies (torch stays the plain 2.13.0 spec: the CPU wheel on disk).
lock:
	$(PY) -m pip freeze --exclude-editable | sed 's/^torch==\([0-9.]*\)+cpu$$/torch==\1/' > requirements.lock

clean:
	rm -rf $(VENV)
