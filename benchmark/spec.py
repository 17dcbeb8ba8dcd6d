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
from dataclasses import dataclass, field
from typing import Any


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

    def canonical(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            default = f.default if f.default is not dataclasses.MISSING else (
                f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING  # type: ignore[misc]
            )
            if value != default:
                out[f.name] = value
        return json.loads(json.dumps(out, sort_keys=True))  # plain JSON types only

    @property
    def spec_id(self) -> str:
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self), sort_keys=True))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunSpec:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def label(self) -> str:
        return f"{self.method} on {self.dataset} (seed {self.seed})"
