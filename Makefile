# Quick start: `make build` then `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: build test check system-deps clean

build: $(STAMP)
	$(PY) build.py

test: $(STAMP)
	$(PY) -m pytest

check: $(STAMP)
	$(PY) build.py check

# WeasyPrint's system libraries (Pango, HarfBuzz subsetting) and the fonts the
# reports use: installed with apt-get when run as root, otherwise the exact
# command is printed.
system-deps:
	@sh scripts/system-deps.sh

$(STAMP): requirements.txt | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

clean:
	rm -rf $(VENV) site
