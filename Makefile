# Two commands on a fresh machine:  make sim   (the whole office on this PC)
#                                   make test  (every test, with lint)
# Each creates or refreshes the local virtual environment .venv by itself.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
SIM_OUT ?= sim-out

.PHONY: venv sim system-deps test lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

# Opens the windows when a screen is available, else plays the scripted day headless.
sim: venv
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] && [ -z "$$CI" ]; then \
		$(VENV)/bin/kiosk sim --out $(SIM_OUT); \
	else \
		$(VENV)/bin/kiosk sim --headless --demo --out $(SIM_OUT); \
	fi

lint: venv
	$(VENV)/bin/ruff check kiosk printer display central tests bench
	$(VENV)/bin/ruff format --check kiosk printer display central tests bench
	$(VENV)/bin/mypy kiosk printer display central
	$(VENV)/bin/lint-imports --no-logo --cache-dir .import_linter_cache

format: venv
	$(VENV)/bin/ruff format kiosk printer display central tests bench
	$(VENV)/bin/ruff check --fix kiosk printer display central tests bench

# The Debian packages the tests use for real, listed once in tools/system-packages.txt:
# installed when missing (as root, apt-get), else one line says what to install and why.
system-deps:
	@tools/system-deps.sh

# Every test, lint first. Any non-zero pytest exit fails, including 5 ("no tests
# collected"): nothing tested is not a pass. The install-script chroot test runs too when
# root (tests/image/test_install.py; KIOSK_CHROOT_TEST=0 leaves it out). --dist loadfile
# keeps each file's tests on one worker, so module fixtures (that chroot) are built once.
test: system-deps
	@$(MAKE) --no-print-directory lint
	$(PY) -m pytest -n 2 --dist loadfile $(PYTEST_ARGS)

bench: venv
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(SIM_OUT) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache build *.egg-info
