"""IMDB-MM reproduces MAGNN's IMDB graph exactly, and assembles its modalities as documented.

The structure is checked against the reference files of the data root (made outside the
suite); the adapter never reads them. Features are replaced by cheap stand-ins here, so
these tests need no encoder (the encoders are checked in test_encoders.py).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import datasets.imdb_mm as imdb_mm
from datasets.adapter import DataContext
from datasets.image_encoder import PosterFeatures
from datasets.imdb_mm import ImdbGraph, build_imdb_graph, keyword_bag_of_words, magnn_split
from datasets.loading import load_dataset
from datasets.posters import join_posters


@pytest.fixture(scope="module")
def imdb(data_root: Path) -> ImdbGraph:
    return build_imdb_graph(data_root)


@pytest.fixture(scope="module")
def reference(data_root: Path) -> pd.DataFrame:
    return pd.read_csv(data_root / "reference" / "imdb_movies.csv")


def test_counts_are_magnns(imdb: ImdbGraph) -> None:
    assert len(imdb.imdb_ids) == 4278
    assert len(imdb.directors) == 2081
    assert len(imdb.actors) == 5257
    assert imdb.movie_director.shape == (2, 4278)
    assert imdb.movie_actor.shape == (2, 12828)
    assert np.bincount(imdb.labels).tolist() == [1135, 1584, 1559]


def test_movie_order_labels_titles_and_texts_match_the_reference(imdb: ImdbGraph, reference: pd.DataFrame) -> None:
    assert reference["movie_idx"].tolist() == list(range(4278))
    assert imdb.imdb_ids == reference["imdb_id"].tolist()
    assert imdb.labels.tolist() == reference["label"].tolist()
    assert imdb.titles == reference["movie_title"].tolist()  # the trailing non-breaking space is gone
    assert imdb.texts == reference["text"].tolist()


def test_directors_and_actors_are_sorted_names_and_edges_are_unique(imdb: ImdbGraph) -> None:
    assert imdb.directors == sorted(set(imdb.directors))
    assert imdb.actors == sorted(set(imdb.actors))
    assert torch.equal(imdb.movie_director[0], torch.arange(4278))  # exactly one director per movie
    pairs = imdb.movie_actor.T.tolist()
    assert len(pairs) == len({tuple(p) for p in pairs})
    assert imdb.movie_actor[0].bincount().max() <= 3  # at most three actors per movie


def test_split_is_magnns(data_root: Path) -> None:
    split = magnn_split(4278)
    expected = np.load(data_root / "reference" / "imdb_magnn_split.npz")
    assert split.sizes == (400, 400, 3478)
    for part in ("train", "val", "test"):
        assert split.__getattribute__(part).tolist() == expected[part].tolist()


def test_bag_of_words_is_3066_keyword_token_counts_of_tokens_in_two_movies(imdb: ImdbGraph) -> None:
    bow = keyword_bag_of_words(imdb.plot_keywords)
    assert bow.shape == (4278, 3066)
    # An independent count: scikit-learn's default tokens (2+ word characters, lower case)
    # that occur in at least two movies' keywords.
    tokens = [re.findall(r"(?u)\b\w\w+\b", k.lower()) for k in imdb.plot_keywords]
    document_frequency = Counter(t for doc in tokens for t in set(doc))
    vocabulary = sorted(t for t, n in document_frequency.items() if n >= 2)
    assert len(vocabulary) == 3066
    column = {t: i for i, t in enumerate(vocabulary)}
    for movie in (0, 1, 2000, 4277):
        expected = np.zeros(3066, dtype=np.float32)
        for token in tokens[movie]:
            if token in column:
                expected[column[token]] += 1
        assert np.array_equal(bow[movie], expected)


def test_poster_coverage_is_82_percent_and_differs_by_class(data_root: Path, imdb: ImdbGraph) -> None:
    join = join_posters(data_root, imdb.imdb_ids)
    has = np.array([p is not None for p in join.paths])
    assert int(has.sum()) == 3521 and not join.not_on_disk
    assert [int(has[imdb.labels == c].sum()) for c in range(3)] == [807, 1459, 1255]


def _stand_in_features(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Cheap stand-ins for the encoders: a text's vector is its length in every dimension,
    a poster's vector is its file size; posters of movies with an odd IMDb id "fail".
    Returns the list of the ``progress`` arguments the encoders are called with."""
    progress_args: list[bool] = []

    def fake_text(texts, cache_dir, description="", progress=True):
        progress_args.append(progress)
        return np.array([[float(len(t))] * 4 for t in texts], dtype=np.float32)

    def fake_posters(paths, cache_dir, description="", progress=True):
        progress_args.append(progress)
        ok = np.array([p is not None and int(p.stem) % 2 == 0 for p in paths])
        x = np.array([[float(p.stat().st_size)] * 3 if good else [0.0] * 3 for p, good in zip(paths, ok)], dtype=np.float32)
        failed = [str(p) for p, good in zip(paths, ok) if p is not None and not good]
        return PosterFeatures(x=x, present=ok, undecodable=failed)

    monkeypatch.setattr(imdb_mm, "text_features", fake_text)
    monkeypatch.setattr(imdb_mm, "poster_features", fake_posters)
    return progress_args


@pytest.mark.parametrize("progress", [True, False])
def test_the_encoders_show_bars_as_the_context_says(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, progress: bool) -> None:
    progress_args = _stand_in_features(monkeypatch)
    load_dataset("imdb_mm", DataContext(data_root, tmp_path, progress=progress))
    assert progress_args == [progress, progress]  # movie texts, posters


def test_assembled_graph_follows_the_documented_rules(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, imdb: ImdbGraph) -> None:
    _stand_in_features(monkeypatch)
    mmhn = load_dataset("imdb_mm", DataContext(data_root, tmp_path))  # validated
    assert {t: mmhn.num_nodes(t) for t in mmhn.node_types} == {"movie": 4278, "director": 2081, "actor": 5257}
    assert mmhn.graph["movie", "has_actor", "actor"].edge_index.shape[1] == mmhn.graph["actor", "acts_in", "movie"].edge_index.shape[1] == 12828
    assert sorted(mmhn.splits) == ["magnn", "random_20_10_70"]
    assert mmhn.split("magnn").sizes == (400, 400, 3478)
    assert mmhn.split("random_20_10_70").sizes == (227 + 316 + 311, 113 + 158 + 155, 4278 - 854 - 426)  # per class, rounded down
    assert [tuple(e[1] for e in p) for p in mmhn.metapaths] == [("directed_by", "directs"), ("has_actor", "acts_in")]

    # director text = mean of its movies' text (MAGNN's convention), worked out for one director
    director = imdb.directors.index("James Cameron")
    movies = (imdb.movie_director[1] == director).nonzero().flatten()
    lengths = [len(imdb.texts[int(m)]) for m in movies]
    assert torch.allclose(mmhn.x("director", "text")[director], torch.full((4,), float(np.mean(lengths))))
    assert bool(mmhn.present("actor", "text").all())
    # directors and actors lack images structurally by default
    assert mmhn.feature_dim("director", "image") == 0 and not mmhn.has_modality("actor", "image")
    # a failed poster is missing, not a crash, and the summary counts it
    has_image = mmhn.present("movie", "image")
    assert int(has_image.sum()) == sum(1 for i in imdb.imdb_ids if i % 2 == 0 and _has_poster(data_root, i))
    assert int(mmhn.notes["posters undecodable"]) == 3521 - int(has_image.sum())


def _has_poster(data_root: Path, imdb_id: int) -> bool:
    return (data_root / "posters" / "images" / f"{imdb_id:07d}.jpg").is_file()


def test_options_bow_text_and_derived_aux_images(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, imdb: ImdbGraph) -> None:
    _stand_in_features(monkeypatch)
    mmhn = load_dataset("imdb_mm", DataContext(data_root, tmp_path), {"text_features": "bow", "aux_image": "mean_of_movies"})
    assert mmhn.feature_dim("movie", "text") == mmhn.feature_dim("actor", "text") == 3066
    movie_image, has_image = mmhn.x("movie", "image"), mmhn.present("movie", "image")
    edges = mmhn.graph["movie", "directed_by", "director"].edge_index
    for director in (0, 500, 2080):
        movies = edges[0][edges[1] == director]
        with_poster = movies[has_image[movies]]
        assert bool(mmhn.present("director", "image")[director]) == (len(with_poster) > 0)
        expected = movie_image[with_poster].mean(0) if len(with_poster) else torch.zeros(3)
        assert torch.allclose(mmhn.x("director", "image")[director], expected)


def test_bad_option_values_name_the_valid_choices(data_root: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"text_features='tfidf' is not one of: minilm, bow"):
        load_dataset("imdb_mm", DataContext(data_root, tmp_path), {"text_features": "tfidf"})
