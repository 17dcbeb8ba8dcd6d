"""MovieLens-MM: the graph, target and texts from ml-latest-small, checked against the reference.

Features are replaced by cheap stand-ins (the encoders are checked in test_encoders.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

import datasets.movielens_mm as movielens_mm
from datasets.adapter import DataContext
from datasets.image_encoder import PosterFeatures
from datasets.loading import load_dataset
from datasets.movielens_mm import MovieLensGraph, build_movielens_graph
from datasets.posters import join_posters


@pytest.fixture(scope="module")
def ml(data_root: Path) -> MovieLensGraph:
    return build_movielens_graph(data_root)


def test_counts(ml: MovieLensGraph) -> None:
    assert len(ml.movie_ids) == 9742 and len(ml.user_ids) == 610 and len(ml.tags) == 1589
    assert ml.user_movie.shape == (2, 100836) and ml.ratings.shape == (100836,)
    assert ml.movie_tag.shape == (2, 3579)  # distinct movie-tag pairs of 3,683 tag applications


def test_target_is_the_6150_movies_with_exactly_one_of_action_comedy_drama(data_root: Path, ml: MovieLensGraph) -> None:
    assert int((ml.labels >= 0).sum()) == 6150
    genres = pd.read_csv(data_root / "movielens-small" / "movies.csv")["genres"].str.split("|")
    for row in (0, 1, 5, 9741):  # Toy Story: Comedy only of the three; Jumanji: none
        hits = [c for c in ("Action", "Comedy", "Drama") if c in genres[row]]
        assert ml.labels[row] == (("Action", "Comedy", "Drama").index(hits[0]) if len(hits) == 1 else -1)
    assert np.bincount(ml.labels[ml.labels >= 0]).tolist() == [919, 2363, 2868]


def test_order_ids_and_texts_match_the_reference(data_root: Path, ml: MovieLensGraph) -> None:
    reference = pd.read_csv(data_root / "reference" / "movielens_movies.csv")
    assert ml.movie_ids.tolist() == reference["movieId"].tolist()
    assert ml.imdb_ids == reference["imdbId"].tolist()
    assert ml.texts == reference["text"].tolist()


def test_ratings_are_edge_attributes_aligned_with_their_edges(data_root: Path, ml: MovieLensGraph) -> None:
    ratings = pd.read_csv(data_root / "movielens-small" / "ratings.csv").iloc[[0, 50_000, 100_835]]
    movie_row = {m: i for i, m in enumerate(ml.movie_ids.tolist())}
    user_row = {u: i for i, u in enumerate(ml.user_ids.tolist())}
    for user, movie, rating in zip(ratings["userId"], ratings["movieId"], ratings["rating"]):
        edge = ((ml.user_movie[0] == user_row[user]) & (ml.user_movie[1] == movie_row[movie])).nonzero().flatten()
        assert len(edge) == 1 and float(ml.ratings[edge]) == rating


def test_poster_coverage_is_68_percent(data_root: Path, ml: MovieLensGraph) -> None:
    join = join_posters(data_root, ml.imdb_ids)
    assert sum(p is not None for p in join.paths) == 6591


def test_assembled_graph_derives_user_features_from_rated_movies(data_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 ml: MovieLensGraph) -> None:
    progress_args = []

    def fake_text(texts, cache_dir, description="", progress=True):
        progress_args.append(progress)
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)

    def fake_posters(paths, cache_dir, description="", progress=True):
        progress_args.append(progress)
        ok = np.array([p is not None for p in paths])
        return PosterFeatures(x=np.where(ok[:, None], 1.0, 0.0).astype(np.float32) * np.arange(1, len(paths) + 1)[:, None],
                              present=ok, undecodable=[])

    monkeypatch.setattr(movielens_mm, "text_features", fake_text)
    monkeypatch.setattr(movielens_mm, "poster_features", fake_posters)
    mmhn = load_dataset("movielens_mm", DataContext(data_root, tmp_path, progress=False))  # validated
    assert progress_args == [False, False, False]  # movie texts, tags, posters: no bars, as the context says
    assert {t: mmhn.num_nodes(t) for t in mmhn.node_types} == {"movie": 9742, "user": 610, "tag": 1589}
    assert torch.equal(mmhn.graph["movie", "rated_by", "user"].rating, mmhn.graph["user", "rates", "movie"].rating)
    assert int((mmhn.labels >= 0).sum()) == 6150 and mmhn.split("random_20_10_70").sizes[0] == 183 + 472 + 573
    assert not mmhn.has_modality("tag", "image") and bool(mmhn.present("tag", "text").all())
    # user text: mean over rated movies; user image: mean over rated movies that have a poster
    user = 0
    rated = ml.user_movie[1][ml.user_movie[0] == user]
    assert torch.allclose(mmhn.x("user", "text")[user], mmhn.x("movie", "text")[rated].mean(0))
    with_poster = rated[mmhn.present("movie", "image")[rated]]
    assert torch.allclose(mmhn.x("user", "image")[user], mmhn.x("movie", "image")[with_poster].mean(0))
    assert int(mmhn.present("movie", "image").sum()) == 6591
    assert [tuple(e[1] for e in p) for p in mmhn.metapaths] == [("rated_by", "rates"), ("has_tag", "tag_of")]
