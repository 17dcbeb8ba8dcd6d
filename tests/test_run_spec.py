"""Run specs are written down and hashed: equal specs share an id, any change makes a new one."""

from __future__ import annotations

import dataclasses
import json

from benchmark.spec import RunSpec
from datasets.missing import MissingSetting


def spec(**changes: object) -> RunSpec:
    base = RunSpec(method="mlp", dataset="synthetic", split="random_20_10_70", seed=0, hparams={"lr": 0.005, "hidden": 128},
                   max_epochs=200, patience=30)
    return dataclasses.replace(base, **changes)


def test_id_is_stable_and_independent_of_dict_order() -> None:
    assert spec().spec_id == spec(hparams={"hidden": 128, "lr": 0.005}).spec_id
    assert len(spec().spec_id) == 16


def test_every_field_changes_the_id() -> None:
    ids = {
        spec().spec_id,
        spec(seed=1).spec_id,
        spec(method="early_fusion_hgt").spec_id,
        spec(hparams={"lr": 0.001, "hidden": 128}).spec_id,
        spec(max_epochs=50).spec_id,
        spec(patience=20).spec_id,
        spec(device="cuda:0").spec_id,
        spec(split="magnn").spec_id,
        spec(dataset_options={"scale": 2.0}).spec_id,
        spec(config_source="tuned (20 trials)").spec_id,
        spec(missing=MissingSetting("mcar", "image", 0.5)).spec_id,
        spec(missing=MissingSetting("mcar", "image", 0.5, "test_only")).spec_id,
        spec(missing=MissingSetting("mcar", "text", 0.5)).spec_id,
        spec(missing=MissingSetting("mcar", "image", 0.3)).spec_id,
        spec(missing=MissingSetting("degree", "image", 0.5)).spec_id,
    }
    assert len(ids) == 15


def test_defaults_are_left_out_of_the_canonical_form() -> None:
    """So that adding a field with a default later keeps every existing id."""
    canonical = spec().canonical()
    assert "dataset_options" not in canonical and "config_source" not in canonical and "device" not in canonical
    assert "missing" not in canonical and spec(missing=MissingSetting()).spec_id == spec().spec_id
    # inside a nested setting, defaults are left out too (the setting train_test is the default)
    assert spec(missing=MissingSetting("mcar", "image", 0.5)).canonical()["missing"] == {"mechanism": "mcar", "modality": "image", "rate": 0.5}
    assert canonical["hparams"] == {"hidden": 128, "lr": 0.005}


def test_json_round_trip() -> None:
    original = spec(dataset_options={"scale": 0.5})
    assert RunSpec.from_json(original.to_json()) == original


def test_json_round_trip_of_a_missing_setting_through_text() -> None:
    original = spec(missing=MissingSetting("degree", "text", 0.7, "test_only"))
    restored = RunSpec.from_json(json.loads(json.dumps(original.to_json())))
    assert restored == original and isinstance(restored.missing, MissingSetting) and restored.spec_id == original.spec_id
    # a record written before the field existed reads back with the default
    old = {k: v for k, v in spec().to_json().items() if k != "missing"}
    assert RunSpec.from_json(old).missing == MissingSetting()
