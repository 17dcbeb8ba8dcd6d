"""Which datasets a run uses, and what --list and the opening table say about the others."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmark.cli import main
from benchmark.dataset_choice import DatasetChoiceError, choose_datasets, opening_table


def test_available_uses_what_is_found_and_says_how_to_get_the_rest(tmp_path: Path) -> None:
    used, skipped = choose_datasets("available", tmp_path)  # an empty data root
    assert "synthetic" in used and {"imdb_mm", "movielens_mm"} <= set(skipped)
    assert "not found under" in skipped["imdb_mm"] and "imdb-5000/movie_metadata.csv" in skipped["imdb_mm"]
    assert "run_all.py --download --datasets imdb_mm" in skipped["imdb_mm"]
    table = opening_table(used, skipped, tmp_path)
    assert re.search(r"synthetic\s+used\s+generated", table)
    assert re.search(r"movielens_mm\s+skipped\s+not found under", table)


def test_available_with_the_real_data_uses_both_real_datasets(data_root: Path) -> None:
    used, skipped = choose_datasets("available", data_root)
    assert {"synthetic", "imdb_mm", "movielens_mm"} <= set(used)
    assert not {"imdb_mm", "movielens_mm"} & set(skipped)


def test_naming_a_dataset_whose_data_is_missing_is_a_usage_error_saying_what_is_expected() -> None:
    with pytest.raises(DatasetChoiceError, match=r"dataset 'imdb_mm': no data root given \(--data-root DIR or MMHN_DATA_ROOT\); "
                                                 r"expects imdb-5000/movie_metadata\.csv, posters/index\.csv"):
        choose_datasets("imdb_mm", None)


def test_a_plain_folder_name_gets_a_hint_to_write_it_as_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_graph").mkdir()
    with pytest.raises(DatasetChoiceError, match=r"unknown dataset 'my_graph' \(a folder path must contain '/', e\.g\. \./my_graph\)"):
        choose_datasets("my_graph", None)


def test_list_shows_found_or_the_expected_files(data_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list", "--data-root", str(data_root)]) == 0
    found = capsys.readouterr().out
    assert re.search(r"imdb_mm .* found +found under", found) and re.search(r"movielens_mm .* found", found)
    assert main(["--list", "--data-root", str(tmp_path)]) == 0
    missing = capsys.readouterr().out
    assert re.search(r"imdb_mm .* missing +not found under", missing)
    assert "movielens-small/ratings.csv" in missing and "--download" in missing
