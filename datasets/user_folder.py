"""A user's own MMHN, read from a folder: ``run_all.py --datasets path/to/folder``.

The folder format (README, "Your own graph")::

    my_graph/
      mmhn.json                               the description (below)
      nodes/<type>.csv                        one row per node: column ``id`` (unique);
                                              the target type also ``label`` (a class
                                              name, or empty = unlabelled)
      edges/<file>.csv                        one row per edge: columns ``src``, ``dst`` (node ids)
      features/<type>/<modality>.npy          float [N, d], rows in the order of nodes/<type>.csv
      features/<type>/<modality>.present.npy  optional bool [N]: which rows have the modality
                                              (default: all); absent rows must be zero
      splits/<name>.csv                       columns ``id``, ``part`` (train, val or test)

``mmhn.json``::

    {"name": "my_graph", "target": "paper", "modalities": ["text", "image"],
     "class_names": ["db", "ml", "theory"],
     "relations": [{"src": "paper", "name": "written_by", "dst": "author",
                    "reverse": "writes", "file": "edges/written_by.csv"}],
     "metapaths": [["written_by", "writes"]],
     "default_split": "main"}

Each relation is given once; its reverse (named ``reverse``) is added. A node type with no
feature file for a modality lacks it structurally (zero-width matrix, all-false mask).
Metapaths are lists of relation names (a relation's ``name`` or ``reverse``).
The result goes through the same :meth:`MMHN.validate` as every dataset. Bad input (a
missing file or column, an edge to a node that does not exist, NaN in a feature file, an
unknown class) is an error naming the file and the row.

A run on a folder records the folder's absolute path as its dataset name and a content
fingerprint of every file in it as a dataset option: editing the folder makes new runs,
never a silent mix with old records.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch
from torch_geometric.data import HeteroData

from datasets.adapter import Availability, DataContext, DatasetAdapter
from datasets.graph_building import add_relation, set_modality
from datasets.mmhn import MMHN, EdgeType, Split
from datasets.raw_tables import RawDataError, line_of, read_table

MANIFEST = "mmhn.json"
MANIFEST_KEYS = ("name", "target", "modalities", "class_names", "relations", "metapaths", "default_split")
RELATION_KEYS = ("src", "name", "dst", "reverse", "file")
PARTS = ("train", "val", "test")


def is_folder_path(name: str) -> bool:
    """A ``--datasets`` entry names a folder when it looks like a path (has a separator or starts with '.')."""
    return "/" in name or os.sep in name or name.startswith(".") or name.startswith("~")


def folder_fingerprint(folder: Path) -> str:
    """A content hash of every file under ``folder`` (relative paths and bytes)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class FolderOptions:
    fingerprint: str = ""  # the folder's content when the run was planned ("" = do not check)


@dataclass(frozen=True)
class Relation:
    src: str
    name: str
    dst: str
    reverse: str
    file: str


@dataclass(frozen=True)
class FolderManifest:
    name: str
    target: str
    modalities: tuple[str, ...]
    class_names: tuple[str, ...]
    relations: tuple[Relation, ...]
    metapaths: tuple[tuple[str, ...], ...]
    default_split: str

    @classmethod
    def read(cls, folder: Path) -> FolderManifest:
        path = folder / MANIFEST
        if not path.is_file():
            raise RawDataError(f"{path}: file not found (a dataset folder needs {MANIFEST}; see README 'Your own graph')")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise RawDataError(f"{path}: not valid JSON ({error})") from None
        missing = [k for k in MANIFEST_KEYS if k not in data]
        if missing:
            raise RawDataError(f"{path}: missing key(s) {', '.join(missing)}; expected: {', '.join(MANIFEST_KEYS)}")
        relations = []
        for i, relation in enumerate(data["relations"]):
            absent = [k for k in RELATION_KEYS if k not in relation]
            if absent:
                raise RawDataError(f"{path}: relations[{i}] lacks {', '.join(absent)}; each relation needs {', '.join(RELATION_KEYS)}")
            relations.append(Relation(**{k: str(relation[k]) for k in RELATION_KEYS}))
        return cls(
            name=str(data["name"]), target=str(data["target"]), modalities=tuple(map(str, data["modalities"])),
            class_names=tuple(map(str, data["class_names"])), relations=tuple(relations),
            metapaths=tuple(tuple(map(str, m)) for m in data["metapaths"]), default_split=str(data["default_split"]),
        )


class FolderDataset(DatasetAdapter):
    """The adapter of one folder; made by :func:`datasets.loading.get_adapter` for a path."""

    summary = "a user's MMHN folder (README 'Your own graph')"
    Options = FolderOptions

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder).expanduser().resolve()
        self.name = str(self.folder)  # type: ignore[misc]  # the spec records the folder's path

    @property  # type: ignore[override]
    def default_split(self) -> str:
        return FolderManifest.read(self.folder).default_split

    def availability(self, data_root: Path | None) -> Availability:
        if not (self.folder / MANIFEST).is_file():
            return Availability(False, f"{self.folder} is not a dataset folder: {MANIFEST} not found", "see README 'Your own graph'")
        return Availability(True, f"folder {self.folder}")

    def normalized_options(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        options = super().normalized_options(overrides)
        options.setdefault("fingerprint", folder_fingerprint(self.folder))
        return options

    def load(self, context: DataContext, options: FolderOptions) -> MMHN:
        if options.fingerprint:
            now = folder_fingerprint(self.folder)
            if now != options.fingerprint:
                raise RawDataError(f"{self.folder}: the folder changed since this run was planned (fingerprint {now}, planned {options.fingerprint})")
        return read_folder(self.folder)


def _node_table(folder: Path, node_type: str, target: bool) -> tuple[list[str], Any]:
    path = folder / "nodes" / f"{node_type}.csv"
    table = read_table(path, required=("id", "label") if target else ("id",), not_null=("id",), dtype={"id": str, "label": str})
    duplicated = table["id"].duplicated().to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise RawDataError(f"{path}, line {line_of(row)}: id {table['id'].iloc[row]!r} appears twice")
    return table["id"].tolist(), table


def _rows_of(ids: Any, index: dict[str, int], path: Path, column: str, node_type: str) -> np.ndarray:
    rows = np.array([index.get(i, -1) for i in ids], dtype=np.int64)
    if (rows < 0).any():
        bad = int(np.flatnonzero(rows < 0)[0])
        raise RawDataError(f"{path}, line {line_of(bad)}: {column} {ids[bad]!r} is not a {node_type} node (nodes/{node_type}.csv)")
    return rows


def _load_array(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as error:
        raise RawDataError(f"{path}: not a readable .npy array ({error})") from None


def _features(folder: Path, node_type: str, modality: str, n: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    path = folder / "features" / node_type / f"{modality}.npy"
    mask_path = path.with_name(f"{modality}.present.npy")
    if not path.is_file():
        if mask_path.is_file():
            raise RawDataError(f"{mask_path}: a presence mask without its feature file {path.name}")
        return None, None
    x = _load_array(path)
    if x.ndim != 2 or x.shape[0] != n or not np.issubdtype(x.dtype, np.number):
        raise RawDataError(f"{path}: expected a numeric [{n}, d] array (one row per line of nodes/{node_type}.csv), got {x.dtype} {x.shape}")
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        raise RawDataError(f"{path}, row {int(np.flatnonzero(bad)[0])}: NaN or inf ({int(bad.sum())} row(s))")
    present = np.ones(n, dtype=bool)
    if mask_path.is_file():
        mask = _load_array(mask_path)
        if mask.shape != (n,) or not (mask.dtype == bool or set(np.unique(mask).tolist()) <= {0, 1}):
            raise RawDataError(f"{mask_path}: expected a bool [{n}] array, got {mask.dtype} {mask.shape}")
        present = mask.astype(bool)
        nonzero = (~present) & (x != 0).any(axis=1)
        if nonzero.any():
            raise RawDataError(f"{path}, row {int(np.flatnonzero(nonzero)[0])}: marked absent in {mask_path.name} but not zero")
    return x.astype(np.float32), present


def _split(folder: Path, name: str, index: dict[str, int], target: str) -> Split:
    path = folder / "splits" / f"{name}.csv"
    table = read_table(path, required=("id", "part"), not_null=("id", "part"), dtype={"id": str, "part": str})
    wrong = ~table["part"].isin(PARTS).to_numpy()
    if wrong.any():
        row = int(np.flatnonzero(wrong)[0])
        raise RawDataError(f"{path}, line {line_of(row)}: part {table['part'].iloc[row]!r} is not one of {', '.join(PARTS)}")
    rows = _rows_of(table["id"].tolist(), index, path, "id", target)
    parts = {p: torch.from_numpy(np.sort(rows[(table["part"] == p).to_numpy()])) for p in PARTS}
    return Split(name=name, **parts)


def read_folder(folder: Path) -> MMHN:
    manifest = FolderManifest.read(folder)
    node_files = sorted((folder / "nodes").glob("*.csv"))
    if not node_files:
        raise RawDataError(f"{folder / 'nodes'}: no node tables (<type>.csv)")
    graph = HeteroData()
    index: dict[str, dict[str, int]] = {}
    labels = None
    for path in node_files:
        node_type = path.stem
        ids, table = _node_table(folder, node_type, node_type == manifest.target)
        index[node_type] = {node_id: row for row, node_id in enumerate(ids)}
        graph[node_type].num_nodes = len(ids)
        if node_type == manifest.target:
            class_of = {c: i for i, c in enumerate(manifest.class_names)}
            named = table["label"].fillna("")
            unknown = ~named.isin(["", *manifest.class_names]).to_numpy()
            if unknown.any():
                row = int(np.flatnonzero(unknown)[0])
                raise RawDataError(f"{path}, line {line_of(row)}: label {named.iloc[row]!r} is not one of {', '.join(manifest.class_names)} (empty = unlabelled)")
            labels = torch.tensor([class_of.get(v, -1) for v in named], dtype=torch.long)
        for modality in manifest.modalities:
            set_modality(graph, node_type, modality, *_features(folder, node_type, modality, len(ids)))
    if labels is None:
        raise RawDataError(f"{folder / 'nodes'}: no table for the target type {manifest.target!r} ({manifest.target}.csv)")

    edge_types: dict[str, EdgeType] = {}
    for relation in manifest.relations:
        path = folder / relation.file
        for end in (relation.src, relation.dst):
            if end not in index:
                raise RawDataError(f"{folder / MANIFEST}: relation {relation.name!r} names node type {end!r}, which has no nodes/{end}.csv")
        table = read_table(path, required=("src", "dst"), not_null=("src", "dst"), dtype={"src": str, "dst": str})
        src = _rows_of(table["src"].tolist(), index[relation.src], path, "src", relation.src)
        dst = _rows_of(table["dst"].tolist(), index[relation.dst], path, "dst", relation.dst)
        add_relation(graph, relation.src, relation.name, relation.reverse, relation.dst, torch.from_numpy(np.stack([src, dst])))
        edge_types[relation.name] = (relation.src, relation.name, relation.dst)
        edge_types[relation.reverse] = (relation.dst, relation.reverse, relation.src)
    metapaths = []
    for path_names in manifest.metapaths:
        unknown = [n for n in path_names if n not in edge_types]
        if unknown:
            raise RawDataError(f"{folder / MANIFEST}: metapath {list(path_names)} names unknown relation(s) {', '.join(unknown)}; relations: {', '.join(edge_types)}")
        metapaths.append(tuple(edge_types[n] for n in path_names))

    split_files = sorted((folder / "splits").glob("*.csv"))
    if not split_files:
        raise RawDataError(f"{folder / 'splits'}: no split tables (<name>.csv with columns id, part)")
    splits = {p.stem: _split(folder, p.stem, index[manifest.target], manifest.target) for p in split_files}
    if manifest.default_split not in splits:
        raise RawDataError(f"{folder / MANIFEST}: default_split {manifest.default_split!r} has no splits/{manifest.default_split}.csv; found: {', '.join(splits)}")
    return MMHN(
        name=manifest.name, graph=graph, modalities=manifest.modalities, target=manifest.target, labels=labels,
        class_names=manifest.class_names, splits=splits, metapaths=tuple(metapaths), description=f"user folder {folder}",
    )
