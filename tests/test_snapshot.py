"""Snapshots: a processed graph in one file is the same dataset, read without the raw data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from benchmark.dataset_choice import DatasetChoiceError, choose_datasets
from datasets.adapter import DataContext
from datasets.loading import load_dataset
from datasets.snapshot import SnapshotError, read_snapshot, snapshot_file, write_snapshot
from datasets.synthetic import SyntheticMMHN


OPTIONS = {"scale": 0.05}


def test_a_snapshot_is_read_instead_of_building_and_gives_the_same_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = load_dataset("synthetic", DataContext(None, tmp_path), OPTIONS)
    path = write_snapshot(built, "synthetic", OPTIONS, tmp_path / "snapshots")
    assert path == snapshot_file(tmp_path / "snapshots", "synthetic", OPTIONS)

    def no_building(*args: object) -> None:
        raise AssertionError("the adapter was asked to build the graph")

    monkeypatch.setattr(SyntheticMMHN, "load", no_building)
    read = load_dataset("synthetic", DataContext(None, tmp_path, snapshot_dir=tmp_path / "snapshots"), OPTIONS)
    assert read.fingerprint() == built.fingerprint()
    assert read.metapaths == built.metapaths and read.splits.keys() == built.splits.keys()
    assert all(torch.equal(read.x(t, m), built.x(t, m)) for t in built.node_types for m in built.modalities)
    with pytest.raises(AssertionError, match="asked to build"):  # other options: no snapshot, so it builds
        load_dataset("synthetic", DataContext(None, tmp_path, snapshot_dir=tmp_path / "snapshots"), {"scale": 0.06})


def test_an_altered_or_mislabelled_snapshot_is_refused_by_name(tmp_path: Path) -> None:
    built = load_dataset("synthetic", DataContext(None, tmp_path), OPTIONS)
    path = write_snapshot(built, "synthetic", OPTIONS, tmp_path)
    with pytest.raises(SnapshotError, match="holds 'synthetic'.*not 'imdb_mm'"):
        read_snapshot(path, "imdb_mm", OPTIONS)
    payload = torch.load(path, weights_only=True)
    payload["labels"] = payload["labels"].roll(1)
    torch.save(payload, path)
    with pytest.raises(SnapshotError, match="fingerprint"):
        read_snapshot(path, "synthetic", OPTIONS)


def test_a_real_dataset_with_a_snapshot_counts_as_available_without_its_raw_data(tmp_path: Path) -> None:
    with pytest.raises(DatasetChoiceError, match="imdb_mm"):
        choose_datasets("imdb_mm", None, tmp_path)
    stand_in = replace(load_dataset("synthetic", DataContext(None, tmp_path), OPTIONS), name="imdb_mm")
    write_snapshot(stand_in, "imdb_mm", {}, tmp_path)
    assert choose_datasets("imdb_mm", None, tmp_path)[0] == ["imdb_mm"]
    assert "imdb_mm" in choose_datasets("available", None, tmp_path)[0]
    assert load_dataset("imdb_mm", DataContext(None, tmp_path, snapshot_dir=tmp_path), {}).fingerprint() == stand_in.fingerprint()
