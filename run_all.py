#!/usr/bin/env python
"""mmhn-bench command line: ``python run_all.py --methods all`` (see ``--help``)."""

import sys

from benchmark.cli import main

if __name__ == "__main__":
    sys.exit(main())
