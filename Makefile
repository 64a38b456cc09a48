# Quick start: `make build` then `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: build test check serve system-deps browser-deps clean catalogs

build: $(STAMP)
	$(PY) build.py

test: $(STAMP) browser-deps
	$(PY) -m pytest

serve: $(STAMP)
	$(PY) build.py serve

check: $(STAMP)
	$(PY) build.py check

# WeasyPrint's system libraries (Pango, HarfBuzz subsetting) and the fonts the
# reports use: installed with apt-get when run as root, otherwise the exact
# command is printed.
system-deps:
	@sh scripts/system-deps.sh

# Chromium from Debian, for the browser tests (Playwright drives it; it downloads nothing).
browser-deps:
	@sh scripts/system-deps.sh --browser

$(STAMP): requirements.txt | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV) site

# After changing a template string (or an N_() label in fieldbrief/): extract every
# message into fieldbrief/locale/messages.pot and merge it into each language's .po
# (new strings arrive untranslated; tests/test_i18n.py lists them until translated).
# A new language: `.venv/bin/pybabel init -i fieldbrief/locale/messages.pot -d fieldbrief/locale -l xx`.
catalogs: $(STAMP)
	$(VENV)/bin/pybabel extract -F fieldbrief/locale/babel.cfg -k N_ --no-location --sort-output \
	  --omit-header -o fieldbrief/locale/messages.pot .
	$(VENV)/bin/pybabel update -i fieldbrief/locale/messages.pot -d fieldbrief/locale \
	  --no-fuzzy-matching --ignore-obsolete
