"""Print (or write into README.md) the dataset summary tables, computed from the loaded graphs.

    MMHN_DATA_ROOT=... MMHN_CACHE_DIR=... python benchmark/scripts/dataset_summary.py [--write-readme]

``--write-readme`` replaces the text between the README's ``dataset-summary`` markers.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from datasets.adapter import DataContext  # noqa: E402
from datasets.loading import load_dataset  # noqa: E402
from datasets.summary import summary_markdown  # noqa: E402

BEGIN, END = "<!-- dataset-summary:begin (benchmark/scripts/dataset_summary.py writes this) -->", "<!-- dataset-summary:end -->"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="synthetic,imdb_mm,movielens_mm")
    parser.add_argument("--data-root", default=os.environ.get("MMHN_DATA_ROOT"))
    parser.add_argument("--cache-dir", default=os.environ.get("MMHN_CACHE_DIR", str(Path.home() / ".cache" / "mmhn-bench")))
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    context = DataContext(Path(args.data_root) if args.data_root else None, Path(args.cache_dir))
    text = "\n\n".join(summary_markdown(load_dataset(name, context)) for name in args.datasets.split(","))
    if not args.write_readme:
        print(text)
        return
    readme = REPO / "README.md"
    content = readme.read_text()
    if BEGIN not in content or END not in content:
        sys.exit(f"{readme}: the markers {BEGIN!r} and {END!r} are missing")
    head, rest = content.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}")
    print(f"wrote the summary of {args.datasets} into {readme}")


if __name__ == "__main__":
    main()
