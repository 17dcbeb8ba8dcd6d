"""A run spec: everything that defines one run, written down and hashed.

Two runs with equal specs are the same experiment; the spec id (a hash of the canonical
JSON form) is how the record store knows a run is already done. Fields that equal their
default are left out of the canonical form, so adding a new field with a default to this
class keeps every existing id (and so every committed record) valid.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import typing
from dataclasses import dataclass, field
from typing import Any

from datasets.missing import MissingSetting


@dataclass(frozen=True)
class RunSpec:
    method: str
    dataset: str
    split: str
    seed: int
    hparams: dict[str, Any]  # the method's fully resolved configuration
    max_epochs: int
    patience: int
    device: str = "cpu"
    dataset_options: dict[str, Any] = field(default_factory=dict)  # non-default adapter options only
    config_source: str = "defaults"  # "defaults", or "tuned (N trials)" for a tuned configuration
    missing: MissingSetting = field(default_factory=MissingSetting)  # default: no modality dropped

    def canonical(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            default = f.default if f.default is not dataclasses.MISSING else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING  # type: ignore[misc]
            )
            if value != default:
                out[f.name] = _non_default(value) if dataclasses.is_dataclass(value) else value
        return json.loads(json.dumps(out, sort_keys=True))  # plain JSON types only

    @property
    def spec_id(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self), sort_keys=True))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunSpec:
        hints = typing.get_type_hints(cls)
        values = {}
        for f in dataclasses.fields(cls):
            if f.name in data:
                nested = hints[f.name]
                is_nested = dataclasses.is_dataclass(nested) and isinstance(data[f.name], dict)
                values[f.name] = nested(**data[f.name]) if is_nested else data[f.name]
        return cls(**values)

    def label(self) -> str:
        missing = f", missing {self.missing.label()}" if self.missing.active else ""
        return f"{self.method} on {self.dataset} (seed {self.seed}{missing})"


def _non_default(value: Any) -> dict[str, Any]:
    """A nested dataclass's fields that differ from its defaults (same rule as the spec's)."""
    defaults = type(value)()
    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value) if getattr(value, f.name) != getattr(defaults, f.name)}
