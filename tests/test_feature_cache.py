"""The feature cache: keyed by content and encoder, resumable, never half-written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import datasets.feature_cache as feature_cache
from datasets.feature_cache import EncodedBatch, EncoderIdentity, FeatureCache, encode_with_cache, text_key

ENCODER = EncoderIdentity(name="toy", weights="toy==1", recipe="length and vowel count", dim=2)


class CountingEncoder:
    """A toy encoder: [length, vowels]; it cannot read texts that start with '!'."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, texts: list[str]) -> EncodedBatch:
        self.seen.extend(texts)
        ok = np.array([not t.startswith("!") for t in texts])
        vectors = np.array([[len(t), sum(c in "aeiou" for c in t)] for t in texts], dtype=np.float32)
        return EncodedBatch(vectors, ok, [f"{t}: unreadable" for t in texts if t.startswith("!")])


def encode(cache_dir: Path, texts: list[str], encoder: CountingEncoder, encoder_id: EncoderIdentity = ENCODER, **kwargs):
    return encode_with_cache(FeatureCache(cache_dir, encoder_id), [text_key(t) for t in texts], texts, encoder, batch_size=2,
                             description="toy", progress=False, **kwargs)


def test_second_call_reads_everything_from_the_cache(tmp_path: Path) -> None:
    texts = ["movie", "poster", "movie", "graph"]
    first_encoder, second_encoder = CountingEncoder(), CountingEncoder()
    first = encode(tmp_path, texts, first_encoder)
    assert first_encoder.seen == ["movie", "poster", "graph"]  # duplicates encoded once
    assert first.vectors.tolist() == [[5, 3], [6, 2], [5, 3], [5, 1]] and first.ok.all() and first.computed == 3
    second = encode(tmp_path, texts, second_encoder)
    assert second_encoder.seen == [] and second.computed == 0
    assert np.array_equal(second.vectors, first.vectors)


def test_new_inputs_and_a_new_recipe_are_encoded_again(tmp_path: Path) -> None:
    encode(tmp_path, ["movie"], CountingEncoder())
    encoder = CountingEncoder()
    encode(tmp_path, ["movie", "movies"], encoder)
    assert encoder.seen == ["movies"]
    other_recipe = EncoderIdentity(name="toy", weights="toy==1", recipe="length and vowel count, v2", dim=2)
    encoder = CountingEncoder()
    encode(tmp_path, ["movie"], encoder, other_recipe)
    assert encoder.seen == ["movie"]
    assert ENCODER.folder_name != other_recipe.folder_name


def test_unreadable_inputs_are_reported_missing_and_not_cached(tmp_path: Path) -> None:
    result = encode(tmp_path, ["fine", "!broken"], CountingEncoder())
    assert result.ok.tolist() == [True, False] and result.vectors[1].tolist() == [0, 0]
    assert result.failed == ["!broken: unreadable"]
    encoder = CountingEncoder()
    encode(tmp_path, ["fine", "!broken"], encoder)
    assert encoder.seen == ["!broken"]  # tried again, never served from the cache


def test_an_interrupted_extraction_keeps_finished_shards_and_leaves_no_partial_file(tmp_path: Path) -> None:
    class Interrupted(Exception):
        pass

    class FailsOnThirdBatch(CountingEncoder):
        def __call__(self, texts: list[str]) -> EncodedBatch:
            if len(self.seen) >= 4:
                raise Interrupted
            return super().__call__(texts)

    texts = [f"text {i}" for i in range(8)]
    with pytest.raises(Interrupted):
        encode(tmp_path, texts, FailsOnThirdBatch(), flush_every=2)
    folder = tmp_path / "features" / ENCODER.folder_name
    assert len(list(folder.glob("shard-*.npz"))) == 2 and not list(folder.glob(".tmp-*"))
    resumed = CountingEncoder()
    encode(tmp_path, texts, resumed)
    assert resumed.seen == texts[4:]


def test_a_crash_while_writing_a_shard_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_savez(stream, **arrays):
        stream.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(feature_cache.np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        encode(tmp_path, ["movie"], CountingEncoder())
    folder = tmp_path / "features" / ENCODER.folder_name
    assert [p.name for p in folder.iterdir()] == ["encoder.json"]


def test_a_damaged_shard_is_ignored_with_a_warning_and_recomputed(tmp_path: Path) -> None:
    encode(tmp_path, ["movie"], CountingEncoder())
    (shard,) = (tmp_path / "features" / ENCODER.folder_name).glob("shard-*.npz")
    shard.write_bytes(b"garbage")
    encoder = CountingEncoder()
    with pytest.warns(UserWarning, match=r"ignoring unreadable shard .*shard-"):
        result = encode(tmp_path, ["movie"], encoder)
    assert encoder.seen == ["movie"] and result.vectors.tolist() == [[5, 3]]


def test_many_shards_are_merged_into_one_without_losing_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feature_cache, "COMPACT_AFTER_SHARDS", 3)
    texts = [f"t{i}" for i in range(10)]
    encode(tmp_path, texts, CountingEncoder(), flush_every=2)
    cache = FeatureCache(tmp_path, ENCODER)
    assert len(list(cache.folder.glob("shard-*.npz"))) == 5
    vectors, found = cache.lookup([text_key(t) for t in texts])  # a lookup compacts
    assert found.all()
    assert len(list(cache.folder.glob("shard-*.npz"))) == 1 and cache.entry_count() == 10
    assert vectors[:, 0].tolist() == [2.0] * 10
