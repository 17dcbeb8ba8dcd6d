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

# The `features` extras (text and image encoders of the real datasets) come from pyproject.toml,
# constrained by the lock, so the encoder tests can run.
FEATURES = $(PY) -c "import tomllib; print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['features']))"

$(STAMP): requirements.lock pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock $$($(FEATURES))
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
