"""A user's own MMHN from a folder: the documented format, its errors, and runs on it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.cli import main
from benchmark.grid import plan_grid
from benchmark.protocol import PROTOCOLS
from benchmark.record_store import RecordStore
from datasets.adapter import DataContext
from datasets.loading import load_dataset
from datasets.raw_tables import RawDataError
from datasets.user_folder import folder_fingerprint

N_PAPERS, N_AUTHORS = 30, 6


def write_folder(root: Path) -> Path:
    """30 papers (target, classes db/ml; paper p29 unlabelled), 6 authors; paper i is written
    by authors i % 6 and (i + 1) % 6; papers have text (3-d) and, for even i, an image (2-d);
    authors have text only."""
    for sub in ("nodes", "edges", "features/paper", "features/author", "splits"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    labels = ["db" if i % 2 else "ml" for i in range(N_PAPERS - 1)] + [""]
    (root / "nodes" / "paper.csv").write_text("id,label\n" + "".join(f"p{i},{labels[i]}\n" for i in range(N_PAPERS)))
    (root / "nodes" / "author.csv").write_text("id\n" + "".join(f"a{i}\n" for i in range(N_AUTHORS)))
    edges = [(f"p{i}", f"a{(i + k) % N_AUTHORS}") for i in range(N_PAPERS) for k in (0, 1)]
    (root / "edges" / "written_by.csv").write_text("src,dst\n" + "".join(f"{s},{d}\n" for s, d in edges))
    text = np.arange(N_PAPERS * 3, dtype=np.float32).reshape(N_PAPERS, 3)
    has_image = np.arange(N_PAPERS) % 2 == 0
    image = np.where(has_image[:, None], 1.0, 0.0).astype(np.float32) * np.array([1.0, 2.0], dtype=np.float32)
    np.save(root / "features" / "paper" / "text.npy", text)
    np.save(root / "features" / "paper" / "image.npy", image)
    np.save(root / "features" / "paper" / "image.present.npy", has_image)
    np.save(root / "features" / "author" / "text.npy", np.ones((N_AUTHORS, 4), dtype=np.float64))
    parts = ["train"] * 10 + ["val"] * 9 + ["test"] * 10
    (root / "splits" / "main.csv").write_text("id,part\n" + "".join(f"p{i},{p}\n" for i, p in enumerate(parts)))
    manifest = {
        "name": "toy_papers", "target": "paper", "modalities": ["text", "image"], "class_names": ["db", "ml"],
        "relations": [{"src": "paper", "name": "written_by", "dst": "author", "reverse": "writes", "file": "edges/written_by.csv"}],
        "metapaths": [["written_by", "writes"]], "default_split": "main",
    }
    (root / "mmhn.json").write_text(json.dumps(manifest))
    return root


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    return write_folder(tmp_path / "toy")


def test_a_folder_loads_as_the_format_says(folder: Path, tmp_path: Path) -> None:
    mmhn = load_dataset(str(folder), DataContext(None, tmp_path / "cache"))  # validated
    assert mmhn.name == "toy_papers" and mmhn.target == "paper" and mmhn.class_names == ("db", "ml")
    assert (mmhn.num_nodes("paper"), mmhn.num_nodes("author")) == (N_PAPERS, N_AUTHORS)
    assert mmhn.labels[:3].tolist() == [1, 0, 1] and int(mmhn.labels[29]) == -1
    forward = mmhn.graph["paper", "written_by", "author"].edge_index
    assert forward[:, :2].tolist() == [[0, 0], [0, 1]] and forward.shape == (2, 60)
    assert torch.equal(mmhn.graph["author", "writes", "paper"].edge_index, forward.flip(0))
    assert mmhn.present("paper", "image").tolist() == [i % 2 == 0 for i in range(N_PAPERS)]
    assert mmhn.feature_dim("author", "text") == 4 and mmhn.x("author", "text").dtype == torch.float32
    assert not mmhn.has_modality("author", "image")  # no file: structural absence
    assert mmhn.metapaths == ((("paper", "written_by", "author"), ("author", "writes", "paper")),)
    assert mmhn.split("main").sizes == (10, 9, 10) and mmhn.split("main").val.tolist() == list(range(10, 19))


def test_a_run_spec_records_the_folder_path_and_its_content_fingerprint(folder: Path, tmp_path: Path) -> None:
    (spec, *_) = plan_grid(["mlp"], [str(folder)], PROTOCOLS["quick"], 1, "cpu")
    assert spec.dataset == str(folder.resolve()) and spec.split == "main"
    assert spec.dataset_options == {"fingerprint": folder_fingerprint(folder)}
    np.save(folder / "features" / "paper" / "text.npy", np.zeros((N_PAPERS, 3), dtype=np.float32))
    (edited, *_) = plan_grid(["mlp"], [str(folder)], PROTOCOLS["quick"], 1, "cpu")
    assert edited.spec_id != spec.spec_id  # an edited folder is a new experiment
    with pytest.raises(RawDataError, match="the folder changed since this run was planned"):
        load_dataset(spec.dataset, DataContext(None, tmp_path), spec.dataset_options)


def _break(folder: Path, relative: str, text: str) -> None:
    (folder / relative).write_text(text)


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda f: _break(f, "edges/written_by.csv", "src,dst\np0,a0\np1,a9\n"),
         r"edges/written_by\.csv, line 3: dst 'a9' is not a author node \(nodes/author\.csv\)"),
        (lambda f: np.save(f / "features/paper/text.npy", np.where(np.arange(90).reshape(30, 3) == 7, np.nan, 1.0)),
         r"features/paper/text\.npy, row 2: NaN or inf \(1 row\(s\)\)"),
        (lambda f: np.save(f / "features/paper/text.npy", np.ones((29, 3))),
         r"features/paper/text\.npy: expected a numeric \[30, d\] array"),
        (lambda f: np.save(f / "features/paper/image.npy", np.ones((30, 2))),
         r"features/paper/image\.npy, row 1: marked absent in image\.present\.npy but not zero"),
        (lambda f: _break(f, "nodes/paper.csv", "id,label\np0,db\np1,physics\n"),
         r"nodes/paper\.csv, line 3: label 'physics' is not one of db, ml"),
        (lambda f: _break(f, "nodes/author.csv", "id\na0\na0\n"), r"nodes/author\.csv, line 3: id 'a0' appears twice"),
        (lambda f: _break(f, "splits/main.csv", "id,part\np0,train\np1,holdout\n"),
         r"splits/main\.csv, line 3: part 'holdout' is not one of train, val, test"),
        (lambda f: _break(f, "mmhn.json", '{"name": "x"}'), r"mmhn\.json: missing key\(s\) target, modalities"),
        (lambda f: _break(f, "edges/written_by.csv", "src,dst\np0,a0\np1"), r"written_by\.csv, line 3: 1 field\(s\) where the header has 2"),
    ],
    ids=["edge-to-missing-node", "nan-feature", "feature-rows", "absent-not-zero", "unknown-label", "duplicate-id", "bad-part",
         "manifest-keys", "truncated-edges"],
)
def test_bad_folders_name_the_file_and_row(folder: Path, tmp_path: Path, breakage, message: str) -> None:
    breakage(folder)
    with pytest.raises(RawDataError, match=message):
        load_dataset(str(folder), DataContext(None, tmp_path))


def test_the_command_line_runs_a_folder_and_rejects_a_non_dataset_folder(folder: Path, tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["--methods", "mlp", "--datasets", str(folder), "--protocol", "quick", "--seeds", "1", "--out", str(out), "--no-progress"]) == 0
    (record,) = [r.to_json() for r in RecordStore(out).load()]
    assert record["status"] == "ok" and record["spec"]["dataset"] == str(folder.resolve())
    assert record["spec"]["dataset_options"]["fingerprint"] == folder_fingerprint(folder)
    opening = capsys.readouterr().out.split("\n\n")[0]
    assert re.search(rf"{re.escape(str(folder.resolve()))}\s+used\s+folder {re.escape(str(folder.resolve()))}", opening)

    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["--datasets", str(empty), "--out", str(tmp_path / "out2")]) == 2
    assert "mmhn.json not found" in capsys.readouterr().err
    assert not (tmp_path / "out2").exists()
