"""What makes the trials of one tuning study comparable: stored in the study, checked when a worker joins."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import distribution_to_json

from methods.method import METHODS


@dataclass(frozen=True)
class StudySettings:
    """What makes the trials of one study comparable. Stored in the study; checked when a worker joins."""

    method: str
    dataset: str
    dataset_options: dict[str, Any]
    split: str
    max_epochs: int
    patience: int
    tuning_seeds: tuple[int, ...]
    search_space: dict[str, Any]  # parameter -> Optuna distribution (JSON)
    pruner: str
    sampler_seed: int

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self), sort_keys=True))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StudySettings:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["tuning_seeds"] = tuple(values.get("tuning_seeds", ()))
        return cls(**values)

    def differences(self, other: StudySettings) -> list[str]:
        """Human-readable fields where ``other`` (the stored study) differs from these settings."""
        out = []
        for f in dataclasses.fields(self):
            mine, theirs = self.to_json()[f.name], other.to_json()[f.name]
            if mine == theirs:
                continue
            if f.name == "search_space":
                changed = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
                out.append(f"search space (parameters {', '.join(changed)} differ)")
            else:
                out.append(f"{f.name.replace('_', ' ')} ({json.dumps(theirs)} there, {json.dumps(mine)} here)")
        return out


def search_space_of(method: str) -> dict[str, Any]:
    """The method's Optuna search space as data: sampled once on a throw-away in-memory study."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    METHODS.get(method).search_space(trial)
    return {name: json.loads(distribution_to_json(d)) for name, d in sorted(trial.distributions.items())}
