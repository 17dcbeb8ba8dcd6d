"""Check or regenerate the golden numbers of every registered method (see benchmark.golden_numbers).

    python -m benchmark.scripts.golden_numbers            # check: exit 1 if any method's numbers do not hold
    python -m benchmark.scripts.golden_numbers --update   # store them, saying which methods moved

``--update`` refuses a method whose numbers moved while its versions stayed the same: bump
its ``version`` (or the harness's) first, in the same commit.
"""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from benchmark.golden_numbers import GOLDEN_FILE, GoldenNumbers, load_golden, measure, problems, save_golden, update
from methods.method import METHODS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help=f"store the measured numbers in {GOLDEN_FILE.name}")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    stored = load_golden()
    measured: dict[str, GoldenNumbers] = {}
    for name in tqdm(METHODS.names(), desc="golden runs", unit="method", disable=args.no_progress):
        measured[name] = measure(name)
    if args.update:
        outcome = update(stored, measured)
        save_golden(outcome.written)
        print("\n".join(outcome.report))
        print(f"wrote {GOLDEN_FILE}" + (f"; refused {', '.join(outcome.refused)}: bump their version first" if outcome.refused else ""))
        return 1 if outcome.refused else 0
    found = [line for name, now in measured.items() for line in problems(name, stored.get(name), now)]
    print("\n".join(found) if found else f"golden numbers hold for all {len(measured)} methods")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
