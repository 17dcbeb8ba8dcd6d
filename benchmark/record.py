"""The record of one finished run, as stored (one JSON line) and read back."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from benchmark.spec import RunSpec


@dataclass(frozen=True)
class RunMetrics:
    """Scores at the selected epoch (best validation Macro-F1)."""

    test_macro_f1: float
    test_micro_f1: float
    val_macro_f1: float
    val_micro_f1: float
    train_macro_f1: float


@dataclass(frozen=True)
class RunCost:
    num_parameters: int
    epochs_run: int
    best_epoch: int  # 1-based epoch whose weights were selected
    seconds_per_epoch: float  # mean wall time of one training step (forward, backward, update)
    seconds_to_best: float  # training wall time until the end of the selected epoch
    total_seconds: float  # whole run: data transform, model build, training (unless weights were reused), evaluation
    peak_memory_mb: float  # CUDA: peak allocated; CPU: peak RSS growth during the run (sampled)
    device_name: str


@dataclass(frozen=True)
class RunRecord:
    spec: RunSpec
    spec_id: str
    status: str  # "ok" | "failed"
    error: str = ""
    metrics: RunMetrics | None = None
    cost: RunCost | None = None
    split_checksum: str = ""
    data_fingerprint: str = ""
    versions: dict[str, str] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""
    host: str = ""
    mask_checksum: str = ""  # hash of the dropped (node, modality) entries; "" without a missing setting
    target_missing: dict[str, float] = field(default_factory=dict)  # per modality: target nodes lacking it at test
    # test_only: the plain spec id whose stored selected weights were evaluated instead of
    # training again (benchmark.selected_weights); "" when this run trained its model
    weights_from: str = ""
    # the versions of the code that decided the numbers (benchmark.number_versions):
    # {"method": int, "harness": int}; empty in records made before versions existed
    number_versions: dict[str, Any] = field(default_factory=dict)
    # why a record made before versions existed counts as made at ``number_versions``
    # (the --verify evidence it was adopted on); "" for a record made with them
    adopted: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["spec"] = self.spec.to_json()
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["spec"] = RunSpec.from_json(data["spec"])
        if values.get("metrics") is not None:
            values["metrics"] = RunMetrics(**values["metrics"])
        if values.get("cost") is not None:
            values["cost"] = RunCost(**values["cost"])
        return cls(**values)
