# Quick start: `make build` then `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MAP_DATA := mapdata/countries-50m.json

VNU_JAR := node_modules/vnu-jar/build/dist/vnu.jar

.PHONY: build test check serve system-deps browser-deps office-deps validator-deps map-data clean catalogs

build: $(STAMP) $(MAP_DATA)
	$(PY) build.py

test: $(STAMP) $(MAP_DATA) browser-deps office-deps $(VNU_JAR)
	$(PY) -m pytest

serve: $(STAMP) $(MAP_DATA)
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

# LibreOffice Writer without its desktop (Debian's), which the tests open the Word files with.
office-deps:
	@sh scripts/system-deps.sh --office

# Java (Debian's) and npm, then the W3C Nu HTML checker at the version package-lock.json
# pins, into node_modules/ (its install script, which would fetch a Java of its own, is
# not run).
validator-deps:
	@sh scripts/system-deps.sh --validators

$(VNU_JAR): package.json package-lock.json | validator-deps
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

$(STAMP): requirements.txt | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# The locator maps' base data: Natural Earth 1:50m countries from the npm package
# world-atlas, at the version and checksum in mapdata/package-lock.json. Only the
# one file the maps use and its licence are kept; nothing is fetched at build time.
map-data: $(MAP_DATA)

$(MAP_DATA): mapdata/package-lock.json | system-deps
	cd mapdata && npm ci --ignore-scripts --no-audit --no-fund --silent
	cp mapdata/node_modules/world-atlas/LICENSE mapdata/LICENSE-world-atlas
	cp mapdata/node_modules/world-atlas/countries-50m.json $(MAP_DATA)
	rm -rf mapdata/node_modules

clean:
	rm -rf $(VENV) site node_modules mapdata/node_modules $(MAP_DATA) mapdata/LICENSE-world-atlas

# After changing a template string (or an N_() label in fieldbrief/): extract every
# message into fieldbrief/locale/messages.pot and merge it into each language's .po
# (new strings arrive untranslated; tests/test_i18n.py lists them until translated).
# A new language: `.venv/bin/pybabel init -i fieldbrief/locale/messages.pot -d fieldbrief/locale -l xx`.
catalogs: $(STAMP)
	$(VENV)/bin/pybabel extract -F fieldbrief/locale/babel.cfg -k N_ --no-location --sort-output \
	  --omit-header -o fieldbrief/locale/messages.pot .
	$(VENV)/bin/pybabel update -i fieldbrief/locale/messages.pot -d fieldbrief/locale \
	  --no-fuzzy-matching --ignore-obsolete
