"""Processed-graph snapshots: a built MMHN in one file, for machines without the raw data.

Building ``imdb_mm`` needs the raw table, 7,354 posters and two encoders; a worker on a
cluster node or a rented GPU needs only the result. ``run_all.py --export-snapshots DIR
--datasets imdb_mm`` writes ``DIR/imdb_mm-<options>.pt``; ``--snapshot-dir DIR`` (or
``MMHN_SNAPSHOT_DIR``) makes every load of that (dataset, options) read the file instead of
the data root. A run on a snapshot is the same run: same dataset name and options in its
spec, and the same ``data_fingerprint`` (checked when the file is read, so a stale or
altered snapshot is an error, not a silently different graph).

The file holds plain tensors, strings and numbers only (``torch.load(weights_only=True)``
reads it; no pickled code runs on load).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Mapping

import torch
from torch_geometric.data import HeteroData

from datasets.mmhn import MMHN, Split

FORMAT = 1


class SnapshotError(ValueError):
    """A snapshot file that is not the graph it claims to be; the message names the file."""


def snapshot_file(directory: Path, name: str, options: Mapping[str, Any]) -> Path:
    """Where the snapshot of ``name`` with its normalised (non-default) ``options`` lives."""
    canonical = json.dumps(dict(options), sort_keys=True, separators=(",", ":"))
    return directory / f"{name}-{hashlib.sha256(canonical.encode()).hexdigest()[:12]}.pt"


def has_snapshot(directory: Path | None, name: str) -> bool:
    """Whether ``directory`` holds a snapshot of ``name`` with any options."""
    return directory is not None and any(directory.glob(f"{name}-*.pt"))


def write_snapshot(mmhn: MMHN, name: str, options: Mapping[str, Any], directory: Path) -> Path:
    path = snapshot_file(directory, name, options)
    payload = {
        "format": FORMAT,
        "dataset": name,
        "options": json.dumps(dict(options), sort_keys=True),
        "fingerprint": mmhn.fingerprint(),
        "graph": {_key(k): v for k, v in mmhn.graph.to_dict().items()},
        "name": mmhn.name,
        "modalities": list(mmhn.modalities),
        "target": mmhn.target,
        "labels": mmhn.labels,
        "class_names": list(mmhn.class_names),
        "splits": {k: [s.train, s.val, s.test] for k, s in mmhn.splits.items()},
        "metapaths": [[list(edge) for edge in metapath] for metapath in mmhn.metapaths],
        "description": mmhn.description,
        "notes": dict(mmhn.notes),
    }
    directory.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".partial-{os.getpid()}")
    torch.save(payload, partial)
    os.replace(partial, path)  # a reader never sees half a file
    return path


def read_snapshot(path: Path, name: str, options: Mapping[str, Any]) -> MMHN:
    """The MMHN in ``path``, after checking it is ``name`` with ``options`` and unaltered."""
    payload = torch.load(path, weights_only=True)
    if payload.get("format") != FORMAT:
        raise SnapshotError(f"{path}: snapshot format {payload.get('format')!r}; this version reads {FORMAT}")
    wanted = json.dumps(dict(options), sort_keys=True)
    if (payload["dataset"], payload["options"]) != (name, wanted):
        raise SnapshotError(f"{path}: holds {payload['dataset']!r} with options {payload['options']}, "
                            f"not {name!r} with options {wanted}")
    graph = HeteroData.from_dict({_edge_type(k): v for k, v in payload["graph"].items()})
    mmhn = MMHN(
        name=payload["name"], graph=graph, modalities=tuple(payload["modalities"]), target=payload["target"],
        labels=payload["labels"], class_names=tuple(payload["class_names"]),
        splits={k: Split(k, *tensors) for k, tensors in payload["splits"].items()},
        metapaths=tuple(tuple(tuple(edge) for edge in metapath) for metapath in payload["metapaths"]),
        description=payload["description"], notes=dict(payload["notes"]),
    )
    if mmhn.fingerprint() != payload["fingerprint"]:
        raise SnapshotError(f"{path}: content fingerprint {mmhn.fingerprint()} differs from the recorded "
                            f"{payload['fingerprint']}: the file was altered or written by another version; export it again")
    return mmhn


def _key(key: str | tuple[str, str, str]) -> str:
    # weights_only loading accepts string keys; an edge type becomes "src\x1frel\x1fdst".
    return key if isinstance(key, str) else "\x1f".join(key)


def _edge_type(key: str) -> str | tuple[str, ...]:
    return tuple(key.split("\x1f")) if "\x1f" in key else key
