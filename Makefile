# motcua-kiosk: `make run` starts the kiosk, `make test` runs the tests. Both set up a fresh
# Debian 12 machine first (Debian packages when missing, then the virtual environment .venv).

VENV := .venv
PY := $(VENV)/bin/python
# Offscreen-capable Kivy settings: no command-line parsing by Kivy, a private Kivy home.
KIVY_ENV := KIVY_NO_ARGS=1 KIVY_HOME=$${KIVY_HOME:-$$(mktemp -d)}

.PHONY: setup run run-offscreen test lint screenshots references bench locale lock clean

setup:
	bash scripts/bootstrap.sh

run: setup
	$(KIVY_ENV) $(VENV)/bin/kiosk run

# For a machine with no display: renders through Mesa with SDL's offscreen driver.
run-offscreen: setup
	$(KIVY_ENV) SDL_VIDEODRIVER=offscreen $(VENV)/bin/kiosk run --offscreen

# Two pytest-xdist workers, one per core, a test file each at a time; the screens' render runs
# beside them (tests/conftest.py).
test: setup
	$(KIVY_ENV) SDL_VIDEODRIVER=offscreen OMP_THREAD_LIMIT=1 $(PY) -m pytest -q -n 2 --dist loadfile

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

screenshots: setup
	$(KIVY_ENV) $(VENV)/bin/kiosk screenshot --all out/screens

# After an intended change of a screen: regenerate tests/screens/rendered/reference/ (look at each image).
references: setup
	$(KIVY_ENV) $(PY) scripts/update_references.py

bench: setup
	$(KIVY_ENV) $(PY) bench/startup.py

locale: setup
	$(PY) scripts/compile_locale.py

# Refresh requirements.lock to the newest versions pyproject.toml allows (then run make test).
lock:
	bash scripts/lock.sh

clean:
	rm -rf $(VENV) out .pytest_cache
