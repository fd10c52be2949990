# Two commands for a newcomer: `make run` and `make test`. Both create .venv when needed and
# reinstall only when requirements*.txt or pyproject.toml changed.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.se_viz-installed
PORT   ?= 8501

.PHONY: run test lint format install bench bench-browser train-demo screenshots translations clean

$(PY):
	python3 -m venv $(VENV)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/streamlit run app.py --server.port $(PORT)

# ruff: pyflakes, pycodestyle, import order and bugbear (rules in pyproject.toml); formatting is
# checked, not applied (`make format` applies it).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: lint
	HF_HUB_OFFLINE=1 $(PY) -m pytest $(PYTEST_ARGS)

# Extract every marked message, update se_viz/locale/*/LC_MESSAGES/se_viz.po and compile the .mo
# (then translate the new entries in the .po and run it again; docs/glossary.md has the terms).
translations: install
	$(PY) -m se_viz.catalogue refresh

bench: install
	$(VENV)/bin/se-viz bench

# Every view in Chromium (Debian's /usr/bin/chromium), bundled mini model and untrained SE-ResNet-50.
bench-browser: install
	HF_HUB_OFFLINE=1 $(PY) -m se_viz.cli bench --browser

train-demo: install
	$(VENV)/bin/se-viz train-demo

screenshots: install
	SE_VIZ_SCREENSHOTS=docs/screenshots HF_HUB_OFFLINE=1 $(PY) -m pytest tests/e2e -k "screenshots or projector"

clean:
	rm -rf $(VENV) .pytest_cache
