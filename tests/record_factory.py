"""Hand-made run records for the statistics and report tests (no training involved)."""

from __future__ import annotations

from dataclasses import dataclass

from benchmark.number_versions import HARNESS_VERSION
from benchmark.record import RunCost, RunMetrics, RunRecord
from benchmark.spec import RunSpec


def make_record(
    method: str, dataset: str, seed: int, test_macro_f1: float, *, split: str = "fixed", config_source: str = "defaults",
    seconds_per_epoch: float = 0.01, status: str = "ok", hparams: dict | None = None, max_epochs: int = 200,
    patience: int = 30, spec: RunSpec | None = None, code: str = "abc123", device_name: str = "cpu (test)",
) -> RunRecord:
    spec = spec or RunSpec(method=method, dataset=dataset, split=split, seed=seed, hparams=hparams or {"lr": 0.01},
                           max_epochs=max_epochs, patience=patience, config_source=config_source)
    ok = status == "ok"
    return RunRecord(
        spec=spec, spec_id=spec.spec_id, status=status, error="" if ok else "RuntimeError: boom",
        metrics=RunMetrics(test_macro_f1, test_macro_f1 + 0.01, test_macro_f1 + 0.02, test_macro_f1 + 0.03, 0.99) if ok else None,
        cost=RunCost(1234, 60, 30, seconds_per_epoch, 30 * seconds_per_epoch, 70 * seconds_per_epoch, 50.0, device_name) if ok else None,
        split_checksum=f"{dataset}-{split}-checksum", data_fingerprint=f"{dataset}-fingerprint",
        versions={"code": code, "torch": "2.13.0"}, started_at="2025-03-01T10:00:00+00:00", finished_at="2025-03-02T11:00:00+00:00",
        host="testhost", number_versions=current_versions(method),
    )


def current_versions(method: str) -> dict[str, int]:
    """The versions this checkout gives ``method``'s runs (version 1 for a name no method has)."""
    from methods.method import METHODS

    return {"method": METHODS.get(method).version if method in METHODS else 1, "harness": HARNESS_VERSION}


@dataclass(frozen=True)
class SpecWithSetting(RunSpec):
    """A spec with one more field, as a later spec field (like the missing-modality setting) adds."""

    extra: str = ""
