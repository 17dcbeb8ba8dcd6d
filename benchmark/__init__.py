"""The harness: protocol, run specs, one run, grids, records, statistics and reports."""
