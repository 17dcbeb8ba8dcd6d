"""Bad raw tables stop the build with one message naming the file and the row."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from datasets.adapter import DataContext
from datasets.imdb_mm import build_imdb_graph
from datasets.loading import load_dataset
from datasets.movielens_mm import build_movielens_graph
from datasets.raw_tables import ChecksumMismatchError, RawDataError, read_table

GOOD = "id,name,score\n1,a,0.5\n2,b,1.5\n3,c,2.5\n"


def write(tmp_path: Path, text: str | bytes, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_a_good_table_reads_with_numbers_parsed(tmp_path: Path) -> None:
    table = read_table(write(tmp_path, GOOD), required=("id", "score"), not_null=("id",), numeric=("score",))
    assert table["score"].tolist() == [0.5, 1.5, 2.5]


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        (GOOD[:-6], {}, r"t\.csv, line 4: 2 field\(s\) where the header has 3, and no line end: the file looks truncated"),
        (GOOD + "4,d,1,extra\n", {}, r"t\.csv: malformed CSV: .*Expected 3 fields in line 5, saw 4"),
        (GOOD, {"required": ("id", "title")}, r"t\.csv: missing column\(s\) title; found: id, name, score"),
        ("id,name,score\n1,a,0.5\n2,,1.5\n", {"not_null": ("name",)}, r"t\.csv, line 3: empty 'name'"),
        ("id,name,score\n1,a,0.5\n2,b,high\n", {"numeric": ("score",)}, r"t\.csv, line 3: score='high' is not a number"),
        (b"id,name\n1,caf\xe9\n", {}, r"t\.csv, line 2: not valid UTF-8"),
        ("", {}, r"t\.csv: the file is empty"),
    ],
    ids=["truncated", "malformed", "missing-column", "empty-cell", "not-a-number", "not-utf8", "empty-file"],
)
def test_bad_tables_name_file_and_line(tmp_path: Path, text: str | bytes, kwargs: dict, message: str) -> None:
    path = write(tmp_path, text)
    options = {"required": ("id",), **kwargs}
    with pytest.raises(RawDataError, match=message):
        read_table(path, **options)


def test_a_missing_file_and_a_checksum_mismatch_are_named(tmp_path: Path) -> None:
    with pytest.raises(RawDataError, match=r"nope\.csv: file not found"):
        read_table(tmp_path / "nope.csv", required=())
    path = write(tmp_path, GOOD)
    actual = hashlib.md5(GOOD.encode()).hexdigest()
    read_table(path, required=(), expected_md5=actual)
    with pytest.raises(ChecksumMismatchError, match=rf"t\.csv: checksum mismatch \(md5 {actual}, expected 0+\)"):
        read_table(path, required=(), expected_md5="0" * 32)


@pytest.fixture()
def copied_root(data_root: Path, tmp_path: Path) -> Path:
    """A writable copy of the tables (no posters: they are not needed to build structure)."""
    root = tmp_path / "data"
    for folder in ("imdb-5000", "movielens-small"):
        shutil.copytree(data_root / folder, root / folder)
    (root / "posters").mkdir()
    shutil.copy(data_root / "posters" / "index.csv", root / "posters" / "index.csv")
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return root


def test_a_changed_raw_table_is_a_checksum_error_naming_it(copied_root: Path) -> None:
    path = copied_root / "imdb-5000" / "movie_metadata.csv"
    path.write_bytes(path.read_bytes()[:-200])  # cut short
    with pytest.raises(ChecksumMismatchError, match=r"movie_metadata\.csv: checksum mismatch"):
        build_imdb_graph(copied_root)


def test_an_edge_to_a_movie_that_does_not_exist_names_file_and_line(copied_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets.movielens_mm as movielens_mm

    ratings = movielens_mm.RATINGS
    path = copied_root / ratings.path
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = "1,99999999,4.0,964982703\n"  # line 4 rates a movie that movies.csv does not have
    path.write_text("".join(lines))
    monkeypatch.setattr(movielens_mm, "RATINGS", type(ratings)(ratings.path, md5=None))  # past the checksum, to the row check
    with pytest.raises(RawDataError, match=r"ratings\.csv, line 4: movieId 99999999 does not exist in movies\.csv"):
        build_movielens_graph(copied_root)


def test_missing_data_says_what_is_expected_where(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"dataset 'imdb_mm': not found under .*: imdb-5000/movie_metadata\.csv, posters/index\.csv"):
        load_dataset("imdb_mm", DataContext(tmp_path, tmp_path / "cache"))


def test_a_poster_missing_from_disk_is_a_warning_and_a_missing_image(copied_root: Path, data_root: Path) -> None:
    from datasets.posters import join_posters

    (copied_root / "posters" / "images").mkdir()
    shutil.copy(data_root / "posters" / "images" / "0499549.jpg", copied_root / "posters" / "images")  # Avatar only
    with pytest.warns(UserWarning, match=r"1 poster\(s\) listed in posters/index\.csv are not on disk .*0012349\.jpg"):
        join = join_posters(copied_root, [499549, 12349, 1])
    assert join.paths == [copied_root / "posters" / "images" / "0499549.jpg", None, None]
    assert join.not_on_disk == [copied_root / "posters" / "images" / "0012349.jpg"]
