"""Build the fieldbrief site and PDF reports: ``python build.py --help``."""

import sys

from fieldbrief.cli import main

if __name__ == "__main__":
    sys.exit(main())
