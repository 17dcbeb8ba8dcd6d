"""MovieLens-MM: GroupLens ml-latest-small as a movie/user/tag graph with text and posters.

Graph (from ``movielens-small/``): every movie of ``movies.csv`` (9,742, file order),
every user of ``ratings.csv`` (610, by id) and every distinct tag string of ``tags.csv``
(1,589, sorted); relations user-movie (100,836 ratings; the rating is the edge attribute
``rating``) and movie-tag (3,579 distinct movie-tag pairs of the 3,683 tag applications),
each with its reverse.

Target: movies whose genres contain exactly one of Action, Comedy, Drama (6,150 movies,
3 classes); the other movies stay in the graph unlabelled (-1). Split
``random_20_10_70`` (stratified, seed 0).

Modalities:

* ``text``: movie = all-MiniLM-L6-v2 of ``"{title}. Tags: t1, t2, ...."`` (its distinct
  tags in ``tags.csv`` order; ``"{title}."`` without tags); tag = MiniLM of the tag
  string; user = mean over the movies the user rated.
* ``image``: movie = EfficientNet-Lite0 features of the poster (joined on ``links.csv``
  ``imdbId``; 6,591 movies, 67.7 %); user = mean over rated movies that have a poster
  (present only where at least one does); tags: structurally absent.

Metapaths: movie-user-movie, movie-tag-movie.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from datasets.adapter import DataContext, register_dataset
from datasets.data_root import RawFilesAdapter
from datasets.derived_features import neighbour_mean
from datasets.graph_building import add_relation, set_modality, unique_edges
from datasets.image_encoder import poster_features
from datasets.mmhn import MMHN
from datasets.posters import POSTER_INDEX, join_posters
from datasets.raw_tables import RawDataError, RawFile, line_of, read_table
from datasets.splits import RANDOM_20_10_70, stratified_split
from datasets.text_encoder import text_features

MOVIES = RawFile("movielens-small/movies.csv", md5="ed94fab72b62442ef8150d9446e000d6")
RATINGS = RawFile("movielens-small/ratings.csv", md5="325a6f09399d1c45671f187505e1a100")
LINKS = RawFile("movielens-small/links.csv", md5="316913f95cdad64c745ca22f3630e230")
TAGS = RawFile("movielens-small/tags.csv", md5="1b2d21a7be1cc23d327b11155a4a6aea")
CLASSES = ("Action", "Comedy", "Drama")


@dataclass(frozen=True)
class MovieLensGraph:
    """The graph before features: what the tests check against the reference files."""

    movie_ids: np.ndarray  # MovieLens movieId per movie node, movies.csv order
    imdb_ids: list[int | None]
    titles: list[str]
    movie_tags: list[list[str]]  # distinct tags per movie, in tags.csv order
    labels: np.ndarray  # int64, -1 = none or several of the three genres
    user_ids: np.ndarray  # userId per user node, ascending
    tags: list[str]  # tag node strings, sorted
    user_movie: Tensor  # [2, E] user -> movie
    ratings: Tensor  # [E] float32, aligned with user_movie
    movie_tag: Tensor  # [2, E'] movie -> tag, deduplicated

    @property
    def texts(self) -> list[str]:
        return [f"{t}. Tags: {', '.join(tags)}." if tags else f"{t}." for t, tags in zip(self.titles, self.movie_tags)]


def _genre_label(genres: str) -> int:
    found = [c for c in CLASSES if c in genres.split("|")]
    return CLASSES.index(found[0]) if len(found) == 1 else -1


def _node_rows(ids: np.ndarray, known: np.ndarray, path: Path, column: str, target: str) -> np.ndarray:
    """Positions of ``ids`` in the sorted array ``known``; an unknown id is an error naming its line."""
    rows = np.searchsorted(known, ids).clip(0, max(len(known) - 1, 0))
    bad = known[rows] != ids
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise RawDataError(f"{path}, line {line_of(first)}: {column} {ids[first]} does not exist in {target} ({int(bad.sum())} such row(s))")
    return rows


def build_movielens_graph(data_root: Path) -> MovieLensGraph:
    paths = {f.path: data_root / f.path for f in (MOVIES, RATINGS, LINKS, TAGS)}
    movies = read_table(paths[MOVIES.path], ("movieId", "title", "genres"), not_null=("movieId", "title", "genres"), numeric=("movieId",),
                        expected_md5=MOVIES.md5)
    ratings = read_table(paths[RATINGS.path], ("userId", "movieId", "rating"), not_null=("userId", "movieId", "rating"),
                         numeric=("userId", "movieId", "rating"), expected_md5=RATINGS.md5)
    links = read_table(paths[LINKS.path], ("movieId", "imdbId"), not_null=("movieId",), numeric=("movieId", "imdbId"), expected_md5=LINKS.md5)
    tags = read_table(paths[TAGS.path], ("movieId", "tag"), not_null=("movieId", "tag"), numeric=("movieId",), expected_md5=TAGS.md5)

    movie_ids = movies["movieId"].to_numpy(np.int64)
    if len(np.unique(movie_ids)) != len(movie_ids):
        first = int(np.flatnonzero(movies["movieId"].duplicated().to_numpy())[0])
        raise RawDataError(f"{paths[MOVIES.path]}, line {line_of(first)}: movieId {movie_ids[first]} appears twice")
    order = np.argsort(movie_ids)
    sorted_movies = movie_ids[order]

    def movie_rows(ids: np.ndarray, path: str) -> np.ndarray:
        return order[_node_rows(ids, sorted_movies, paths[path], "movieId", "movies.csv")]

    imdb_ids: list[int | None] = [None] * len(movie_ids)
    for row, imdb in zip(movie_rows(links["movieId"].to_numpy(np.int64), LINKS.path), links["imdbId"]):
        imdb_ids[row] = None if np.isnan(imdb) else int(imdb)

    user_ids = np.unique(ratings["userId"].to_numpy(np.int64))
    users = _node_rows(ratings["userId"].to_numpy(np.int64), user_ids, paths[RATINGS.path], "userId", "ratings.csv")
    rated = movie_rows(ratings["movieId"].to_numpy(np.int64), RATINGS.path)
    codes = users * len(movie_ids) + rated
    by_edge = np.argsort(codes, kind="stable")
    repeated = np.flatnonzero(np.diff(codes[by_edge]) == 0)
    if repeated.size:
        row = int(by_edge[repeated[0] + 1])
        raise RawDataError(f"{paths[RATINGS.path]}, line {line_of(row)}: user {user_ids[users[row]]} rates movie {movie_ids[rated[row]]} twice")
    user_movie = torch.from_numpy(np.stack([users[by_edge], rated[by_edge]]))
    rating_values = torch.from_numpy(ratings["rating"].to_numpy(np.float32)[by_edge])

    tag_names = sorted(set(tags["tag"].astype(str)))
    tag_of = {t: i for i, t in enumerate(tag_names)}
    tagged = movie_rows(tags["movieId"].to_numpy(np.int64), TAGS.path)
    movie_tags: list[list[str]] = [[] for _ in movie_ids]
    for row, tag in zip(tagged, tags["tag"].astype(str)):
        if tag not in movie_tags[row]:
            movie_tags[row].append(tag)
    movie_tag = unique_edges(tagged, np.array([tag_of[t] for t in tags["tag"].astype(str)], dtype=np.int64), len(tag_names))

    return MovieLensGraph(
        movie_ids=movie_ids,
        imdb_ids=imdb_ids,
        titles=[t.strip() for t in movies["title"].astype(str)],  # a few titles end in a space
        movie_tags=movie_tags,
        labels=np.array([_genre_label(g) for g in movies["genres"]], dtype=np.int64),
        user_ids=user_ids,
        tags=tag_names,
        user_movie=user_movie,
        ratings=rating_values,
        movie_tag=movie_tag,
    )


@register_dataset("movielens_mm")
class MovieLensMM(RawFilesAdapter):
    summary = "MovieLens-MM: ml-latest-small (movie/user/tag, 3 genres of 6,150 movies), MiniLM text + EfficientNet poster features"
    default_split = "random_20_10_70"
    raw_files = (MOVIES, RATINGS, LINKS, TAGS, POSTER_INDEX)
    poster_subset = "in_ml_latest_small"

    def load(self, context: DataContext, options: object) -> MMHN:
        assert context.data_root is not None
        ml = build_movielens_graph(context.data_root)
        n_movies = len(ml.movie_ids)
        graph = HeteroData()
        for node_type, n in (("movie", n_movies), ("user", len(ml.user_ids)), ("tag", len(ml.tags))):
            graph[node_type].num_nodes = n
        add_relation(graph, "user", "rates", "rated_by", "movie", ml.user_movie, rating=ml.ratings)
        add_relation(graph, "movie", "has_tag", "tag_of", "tag", ml.movie_tag)

        movie_text = torch.from_numpy(text_features(ml.texts, context.cache_dir, "movielens_mm movie text (MiniLM)", context.progress))
        tag_text = text_features(ml.tags, context.cache_dir, "movielens_mm tag text (MiniLM)", context.progress)
        posters = join_posters(context.data_root, ml.imdb_ids)
        image = poster_features(posters.paths, context.cache_dir, "movielens_mm posters (EfficientNet-Lite0)", context.progress)
        movie_image, movie_has_image = torch.from_numpy(image.x), torch.from_numpy(image.present)
        set_modality(graph, "movie", "text", movie_text)
        set_modality(graph, "movie", "image", movie_image, movie_has_image)
        set_modality(graph, "tag", "text", tag_text)
        set_modality(graph, "tag", "image", None)
        rated_by = graph["movie", "rated_by", "user"].edge_index
        n_users = len(ml.user_ids)
        set_modality(graph, "user", "text", *neighbour_mean(rated_by, movie_text, torch.ones(n_movies, dtype=torch.bool), n_users))
        set_modality(graph, "user", "image", *neighbour_mean(rated_by, movie_image, movie_has_image, n_users))

        labels = torch.from_numpy(ml.labels)
        split = stratified_split(labels, RANDOM_20_10_70, seed=0, name="random_20_10_70")
        coverage = int(movie_has_image.sum())
        labelled = labels >= 0
        return MMHN(
            name="movielens_mm",
            graph=graph,
            modalities=("text", "image"),
            target="movie",
            labels=labels,
            class_names=CLASSES,
            splits={split.name: split},
            metapaths=(
                (("movie", "rated_by", "user"), ("user", "rates", "movie")),
                (("movie", "has_tag", "tag"), ("tag", "tag_of", "movie")),
            ),
            description="MovieLens ml-latest-small with MiniLM text and EfficientNet-Lite0 poster features",
            notes={
                "movie posters": f"{coverage} of {n_movies} ({100 * coverage / n_movies:.1f} %); "
                                 f"labelled movies: {int(movie_has_image[labelled].sum())} of {int(labelled.sum())}",
                "posters undecodable": str(len(image.undecodable)),
                "posters listed but not on disk": str(len(posters.not_on_disk)),
            },
        )
