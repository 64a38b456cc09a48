# Quick start: `make build` then `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: build test check serve system-deps browser-deps clean

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
