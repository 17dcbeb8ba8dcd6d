"""A content-addressed on-disk cache of encoder outputs, and the batched driver that fills it.

Each encoder (model weights + preprocessing recipe, see :class:`EncoderIdentity`) has its
own folder under ``<cache_dir>/features/``. An entry maps the content hash of one input (a
text's SHA-256, a poster file's SHA-1) to its feature vector, so

* the same input is encoded once, whichever dataset asks for it (IMDB and MovieLens share
  3,014 posters), and a changed input or recipe can never be served stale features;
* entries are written in shards (``shard-<hash>.npz``) every few hundred inputs, each to a
  temporary name first and then renamed, so an interrupted extraction keeps what it
  finished and no reader ever sees a half-written file;
* a shard that cannot be read (disk damage) is ignored with a warning and its inputs are
  encoded again.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from tqdm import tqdm

COMPACT_AFTER_SHARDS = 32  # merge shards into one when there are more (faster cold reads)


@dataclass(frozen=True)
class EncoderIdentity:
    """Everything that determines an encoder's output; its digest names the cache folder."""

    name: str
    weights: str  # the package (and version) that ships the weights
    recipe: str  # preprocessing and pooling, in words
    dim: int

    @property
    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:12]

    @property
    def folder_name(self) -> str:
        return f"{self.name}-{self.digest}"


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def atomic_write(path: Path, write: Callable[[object], None]) -> None:
    """Write via a temporary file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


class FeatureCache:
    """Vectors of one encoder, keyed by the content hash of each input."""

    def __init__(self, cache_dir: Path, encoder: EncoderIdentity) -> None:
        self.encoder = encoder
        self.folder = Path(cache_dir) / "features" / encoder.folder_name

    def _shards(self) -> list[Path]:
        return sorted(self.folder.glob("shard-*.npz")) if self.folder.is_dir() else []

    def _read_all(self) -> tuple[list[str], np.ndarray, list[Path]]:
        keys: list[str] = []
        blocks: list[np.ndarray] = []
        read: list[Path] = []
        for shard in self._shards():
            try:
                with np.load(shard, allow_pickle=False) as data:
                    shard_keys, vectors = data["keys"], data["vectors"]
                if vectors.shape != (len(shard_keys), self.encoder.dim):
                    raise ValueError(f"vectors of shape {vectors.shape} for {len(shard_keys)} keys of dim {self.encoder.dim}")
            except FileNotFoundError:
                continue  # merged away by a concurrent compaction; its entries are in the merged shard
            except Exception as error:  # noqa: BLE001 - a damaged shard costs a recomputation, not the run
                warnings.warn(f"feature cache: ignoring unreadable shard {shard} ({error})", stacklevel=3)
                continue
            keys.extend(shard_keys.astype(str).tolist())
            blocks.append(vectors)
            read.append(shard)
        vectors = np.concatenate(blocks) if blocks else np.zeros((0, self.encoder.dim), np.float32)
        return keys, vectors, read

    def entry_count(self) -> int:
        keys, _, _ = self._read_all()
        return len(set(keys))

    def lookup(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors [n, dim] float32, found [n] bool)``; rows not found are zero."""
        stored_keys, stored, shards = self._read_all()
        if len(shards) > COMPACT_AFTER_SHARDS:
            self._compact(stored_keys, stored, shards)
        position = {key: row for row, key in enumerate(stored_keys)}
        rows = np.array([position.get(key, -1) for key in keys], dtype=np.int64)
        found = rows >= 0
        vectors = np.zeros((len(keys), self.encoder.dim), dtype=np.float32)
        vectors[found] = stored[rows[found]]
        return vectors, found

    def add(self, keys: Sequence[str], vectors: np.ndarray) -> Path | None:
        """Store one shard of entries (atomically); returns its path (None when empty)."""
        if not len(keys):
            return None
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(keys), self.encoder.dim):
            raise ValueError(f"expected vectors of shape ({len(keys)}, {self.encoder.dim}), got {vectors.shape}")
        self._write_manifest()
        key_array = np.array(keys, dtype="U")
        name = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:20]
        path = self.folder / f"shard-{name}.npz"
        atomic_write(path, lambda stream: np.savez(stream, keys=key_array, vectors=vectors))
        return path

    def _compact(self, keys: list[str], vectors: np.ndarray, shards: list[Path]) -> None:
        unique = dict.fromkeys(keys)
        rows = {key: row for row, key in enumerate(keys)}
        order = [rows[k] for k in unique]
        merged = self.add(list(unique), vectors[order])
        for shard in shards:  # only after the merged shard is in place: nothing is ever missing
            if shard != merged:
                shard.unlink(missing_ok=True)

    def _write_manifest(self) -> None:
        manifest = self.folder / "encoder.json"
        if not manifest.exists():
            text = json.dumps(asdict(self.encoder), indent=2, sort_keys=True).encode()
            atomic_write(manifest, lambda stream: stream.write(text))  # type: ignore[attr-defined]


@dataclass(frozen=True)
class EncodedBatch:
    """An encoder's answer for one batch: vectors for the inputs it could read, and which."""

    vectors: np.ndarray  # [n, dim]; rows where ``ok`` is false are ignored
    ok: np.ndarray  # [n] bool
    errors: list[str]  # one message per input that failed


@dataclass(frozen=True)
class CachedFeatures:
    vectors: np.ndarray  # [n, dim] float32, zero where ``ok`` is false
    ok: np.ndarray  # [n] bool
    computed: int  # inputs encoded now (cache misses)
    failed: list[str]  # messages for inputs the encoder could not read


def encode_with_cache(
    cache: FeatureCache,
    keys: Sequence[str],
    inputs: Sequence,
    encode_batch: Callable[[list], EncodedBatch],
    batch_size: int,
    description: str,
    flush_every: int = 512,
    progress: bool = True,
) -> CachedFeatures:
    """Vectors for ``inputs`` (keyed by ``keys``): from the cache, encoding only what is missing.

    Equal keys are encoded once. Results are written to the cache every ``flush_every``
    inputs, so an interrupted run resumes where it stopped. Inputs the encoder cannot read
    are not cached (they are tried again next time) and come back with ``ok`` false.
    """
    if len(keys) != len(inputs):
        raise ValueError(f"{len(keys)} keys for {len(inputs)} inputs")
    unique_keys = list(dict.fromkeys(keys))
    first_input = {}
    for key, item in zip(keys, inputs):
        first_input.setdefault(key, item)
    vectors, found = cache.lookup(unique_keys)
    ok = found.copy()
    todo = np.flatnonzero(~found)
    failed: list[str] = []
    if todo.size:
        pending_keys: list[str] = []
        pending: list[np.ndarray] = []
        with tqdm(total=int(todo.size), desc=description, unit="item", disable=not progress, dynamic_ncols=True) as bar:
            for start in range(0, todo.size, batch_size):
                rows = todo[start : start + batch_size]
                batch = encode_batch([first_input[unique_keys[r]] for r in rows])
                good = rows[batch.ok]
                vectors[good] = batch.vectors[batch.ok]
                ok[good] = True
                failed.extend(batch.errors)
                pending_keys.extend(unique_keys[r] for r in good)
                pending.append(batch.vectors[batch.ok])
                if len(pending_keys) >= flush_every:
                    cache.add(pending_keys, np.concatenate(pending))
                    pending_keys, pending = [], []
                bar.update(len(rows))
        cache.add(pending_keys, np.concatenate(pending) if pending else np.zeros((0, cache.encoder.dim), np.float32))
    index = {key: row for row, key in enumerate(unique_keys)}
    rows = np.array([index[k] for k in keys], dtype=np.int64)
    return CachedFeatures(vectors=vectors[rows], ok=ok[rows], computed=int(todo.size), failed=failed)
