"""The outcome of a study, ``<out>/tuned/<method>__<dataset>.json``, and its use by later runs.

``run_all.py --use-tuned`` replaces each method's defaults by the tuned configuration and
marks the runs ``tuned (N trials)``, so the leaderboard's config column says which rows were
tuned and with what budget. Runs keep the reported seeds 0..n-1; tuning used others.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import optuna

from benchmark.environment import package_versions
from benchmark.portable_paths import portable_storage
from benchmark.spec import RunSpec
from benchmark.tuning import Tally, TuningJob, best_trial
from methods.method import METHODS

TUNED_DIR = "tuned"


class TunedConfigError(ValueError):
    """A tuned configuration that is missing or does not fit the runs asked for."""


@dataclass(frozen=True)
class TunedConfig:
    method: str
    dataset: str
    dataset_options: dict[str, Any]
    split: str
    best_params: dict[str, Any]  # the sampled overrides of the method's defaults
    hparams: dict[str, Any]  # the method's fully resolved configuration (what --use-tuned runs)
    best_val_macro_f1: float  # mean over the tuning seeds
    best_val_macro_f1_per_seed: list[float]
    best_trial: int
    trials: dict[str, int]  # complete / pruned / failed (counted) and lost / surplus (not counted)
    budget: dict[str, Any]  # {"n_trials": N or null, "timeout_s": S or null}
    protocol: dict[str, Any]  # {"name", "max_epochs", "patience"}
    tuning_seeds: list[int]
    sampler: dict[str, Any]  # {"name": "TPE", "seed": S, "reseeded": "per trial from (seed, trial number)"}
    pruner: str
    storage: str  # password hidden; a local file's path relative to the results folder
    study_name: str
    wall_time_s: float  # of the invocation that wrote this file
    finished_at: str = ""
    versions: dict[str, str] = field(default_factory=dict)

    @property
    def trials_used(self) -> int:
        return self.trials["complete"] + self.trials["pruned"] + self.trials["failed"]

    def config_source(self, run_protocol: str | None = None) -> str:
        parts = [f"{self.trials_used} trials"]
        if self.budget.get("n_trials") is None and self.budget.get("timeout_s") is not None:
            parts.append(f"timeout {self.budget['timeout_s']:g} s")
        if run_protocol is not None and run_protocol != self.protocol["name"]:
            parts.append(f"{self.protocol['name']} protocol")
        return f"tuned ({', '.join(parts)})"

    def to_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(dataclasses.asdict(self), sort_keys=True))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TunedConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def tuned_path(out: Path, method: str, dataset: str) -> Path:
    return out / TUNED_DIR / f"{method}__{dataset}.json"


def summarize_study(job: TuningJob, study: optuna.Study, wall_time_s: float) -> TunedConfig | None:
    """The tuned configuration of a study, or ``None`` when no trial completed."""
    trials = study.get_trials(deepcopy=False)
    best = best_trial(trials)
    if best is None or best.value is None:
        return None
    tally = Tally.of(trials)
    s = job.settings
    return TunedConfig(
        method=s.method,
        dataset=s.dataset,
        dataset_options=dict(s.dataset_options),
        split=s.split,
        best_params=dict(best.params),
        hparams=dict(best.user_attrs.get("hparams") or METHODS.get(s.method).resolved_config(best.params)),
        best_val_macro_f1=float(best.value),
        best_val_macro_f1_per_seed=list(best.user_attrs.get("val_macro_f1_per_seed", [])),
        best_trial=best.number,
        trials={"complete": tally.complete, "pruned": tally.pruned, "failed": tally.failed, "lost": tally.lost, "surplus": tally.surplus},
        budget={"n_trials": job.n_trials, "timeout_s": job.timeout_s},
        protocol={"name": job.protocol, "max_epochs": s.max_epochs, "patience": s.patience},
        tuning_seeds=list(s.tuning_seeds),
        sampler={"name": "TPE", "seed": s.sampler_seed, "reseeded": "per trial from (seed, trial number)"},
        pruner=s.pruner,
        storage=job.storage.display(),
        study_name=job.study_name,
        wall_time_s=round(wall_time_s, 3),
        finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        versions=package_versions(),
    )


def write_tuned(config: TunedConfig, out: Path) -> Path:
    config = dataclasses.replace(config, storage=portable_storage(config.storage, out))  # relative to the results folder
    path = tuned_path(out, config.method, config.dataset)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(config.to_json(), indent=2, sort_keys=True) + "\n")
    tmp.replace(path)  # readers never see half a file
    return path


def read_tuned(path: Path) -> TunedConfig:
    try:
        return TunedConfig.from_json(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError, TypeError) as error:
        raise TunedConfigError(f"cannot read tuned configuration {path}: {error}") from None


def use_tuned(specs: list[RunSpec], out: Path, protocol: str) -> list[RunSpec]:
    """The specs with each (method, dataset)'s tuned configuration; one clear error for anything missing."""
    loaded: dict[tuple[str, str], TunedConfig] = {}
    missing = []
    for spec in specs:
        key = (spec.method, spec.dataset)
        if key in loaded or key in missing:
            continue
        path = tuned_path(out, *key)
        if not path.exists():
            missing.append(key)
            continue
        config = read_tuned(path)
        if config.dataset_options != spec.dataset_options or config.split != spec.split:
            raise TunedConfigError(
                f"{path} was tuned on {spec.dataset} split {config.split!r} with options {config.dataset_options or 'default'}; "
                f"this run uses split {spec.split!r} with options {spec.dataset_options or 'default'}: tune again with the same options"
            )
        loaded[key] = config
    if missing:
        names = ", ".join(f"{m} on {d}" for m, d in missing)
        methods = ",".join(dict.fromkeys(m for m, _ in missing))
        raise TunedConfigError(f"--use-tuned: no tuned configuration for {names} under {out / TUNED_DIR}; run --tune {methods} first")
    tuned = []
    for spec in specs:
        config = loaded[(spec.method, spec.dataset)]
        try:
            hparams = METHODS.get(spec.method).resolved_config(config.hparams)
        except (TypeError, ValueError) as error:
            raise TunedConfigError(f"{tuned_path(out, spec.method, spec.dataset)} no longer fits method {spec.method!r} ({error}); tune again") from None
        tuned.append(dataclasses.replace(spec, hparams=hparams, config_source=config.config_source(protocol)))
    return tuned
