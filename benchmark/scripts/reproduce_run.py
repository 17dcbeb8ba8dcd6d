"""Train a recorded run again and say whether it reproduces, bit for bit.

    python benchmark/scripts/reproduce_run.py SPEC_ID [SPEC_ID ...] [--out results]

Finds each spec id among the records in ``--out``, runs its spec again with the harness of this
checkout on this machine, and prints the recorded and the new run side by side: code version,
device (the CPU model since 2026-12-02), selected epoch, epochs run, validation and test
Macro-F1, and whether the selection and the scores are identical. Selected weights stored by
sweeps are never loaded (the run gets a fresh cache folder), so a ``test_only`` spec trains its
model too. Nothing is written to ``--out``: it answers "does this record still come out of
this code here?" without touching the committed results. Exit status 1 when a run differs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from benchmark.cpu_threads import DEFAULT_THREADS_PER_RUN  # noqa: E402
from benchmark.grid import DatasetCache  # noqa: E402
from benchmark.record import RunRecord  # noqa: E402
from benchmark.record_store import RecordStore  # noqa: E402
from benchmark.run import execute_run  # noqa: E402
from benchmark.scripts.check_test_only_runs import Selection  # noqa: E402
from datasets.adapter import DataContext  # noqa: E402


@dataclass(frozen=True)
class Reproduction:
    recorded: RunRecord
    now: RunRecord

    @property
    def same_selection(self) -> bool:
        return self._selection(self.recorded) == self._selection(self.now)

    @property
    def identical(self) -> bool:
        """Same selected epoch, epochs run and every score, exactly (timings aside)."""
        return self.same_selection and self.recorded.metrics == self.now.metrics and self._epochs(self.recorded) == self._epochs(self.now)

    @staticmethod
    def _selection(record: RunRecord) -> Selection | None:
        return Selection.of(record) if record.cost and record.metrics else None

    @staticmethod
    def _epochs(record: RunRecord) -> int | None:
        return record.cost.epochs_run if record.cost else None


def reproduce(record: RunRecord, datasets: DatasetCache) -> Reproduction:
    """Run ``record``'s spec again, with a cache folder of its own (no stored weights to load)."""
    mmhn, fingerprint = datasets.get(record.spec.dataset, record.spec.dataset_options)
    with tempfile.TemporaryDirectory(prefix="mmhn-reproduce-") as cache:
        return Reproduction(record, execute_run(record.spec, mmhn, Path(cache), fingerprint))


def describe(record: RunRecord) -> str:
    if not record.ok or record.cost is None or record.metrics is None:
        return f"failed: {record.error}"
    m = record.metrics
    return (f"code {record.versions.get('code', '?')}, {record.cost.device_name}: epoch {record.cost.best_epoch} of {record.cost.epochs_run}, "
            f"val Macro-F1 {m.val_macro_f1:.6f}, test Macro-F1 {m.test_macro_f1:.6f}")


def verdict(result: Reproduction) -> str:
    if result.identical:
        return "identical"
    return "same selection, other scores" if result.same_selection else "DIFFERS: another epoch or validation score was selected"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec_ids", nargs="+", metavar="SPEC_ID", help="spec ids of recorded runs (the records' spec_id)")
    parser.add_argument("--out", default="results", help="results folder whose records/ holds the runs (never written)")
    parser.add_argument("--data-root", default=os.environ.get("MMHN_DATA_ROOT"), help="raw real data (default: $MMHN_DATA_ROOT)")
    parser.add_argument("--cache-dir", default=os.environ.get("MMHN_CACHE_DIR", str(Path.home() / ".cache" / "mmhn-bench")),
                        help="processed graphs and features (read; stored selected weights are not used)")
    args = parser.parse_args()
    latest = RecordStore(Path(args.out)).latest()
    unknown = [spec_id for spec_id in args.spec_ids if spec_id not in latest]
    if unknown:
        raise SystemExit(f"no record with spec id {', '.join(unknown)} in {args.out}/records")
    import torch

    torch.set_num_threads(DEFAULT_THREADS_PER_RUN)  # the harness's default, as in every recorded run
    datasets = DatasetCache(DataContext(Path(args.data_root) if args.data_root else None, Path(args.cache_dir)))
    differ = 0
    for spec_id in args.spec_ids:
        result = reproduce(latest[spec_id], datasets)
        differ += not result.identical
        print(f"{spec_id}  {result.recorded.spec.label()}")
        print(f"  recorded: {describe(result.recorded)}")
        print(f"  now:      {describe(result.now)}")
        print(f"  {verdict(result)}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
