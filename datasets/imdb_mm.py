"""IMDB-MM: MAGNN's IMDB movie graph with text and poster modalities.

Graph (MAGNN, Fu et al., WWW 2020, preprocessing of the IMDB 5000 table as in its
reference code; the data root's README gives the procedure): rows of
``imdb-5000/movie_metadata.csv`` without ``actor_1_name`` or ``director_name`` are dropped;
the label is the first of Action (0), Comedy (1), Drama (2) met when scanning ``genres``
split on ``|``, and rows with none are dropped. Directors are the sorted set of
``director_name``, actors the sorted set of ``actor_{1,2,3}_name``; movie-director and
movie-actor edges are deduplicated. Result: 4,278 movies, 2,081 directors, 5,257 actors,
4,278 movie-director and 12,828 movie-actor edges, each with its reverse. MAGNN keeps 98
duplicate films; so does this graph.

Modalities:

* ``text``: movie = all-MiniLM-L6-v2 of ``"{title}. Plot keywords: k1, k2, ...."`` (or
  ``"{title}."``); ``text_features="bow"`` uses MAGNN's 3,066-d keyword bag of words
  (``CountVectorizer(min_df=2)``) instead, for comparison with the literature. Directors
  and actors: the mean of their movies' text (MAGNN's convention), present.
* ``image``: movie = EfficientNet-Lite0 features of the poster, present for 3,521 movies
  (82.3 %; Action 71 %, Comedy 92 %, Drama 81 %: a natural, class-skewed missingness).
  Directors and actors: structurally absent by default; ``aux_image="mean_of_movies"``
  derives it from the mean of their movies that have a poster.

Splits: ``magnn`` (MAGNN's 400/400/3,478, ``train_test_split`` with its seed) and
``random_20_10_70`` (stratified, seed 0; the ratio HGNN-IMA used).
Metapaths: movie-director-movie, movie-actor-movie.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

from datasets.adapter import DataContext, register_dataset
from datasets.data_root import RawFilesAdapter
from datasets.derived_features import neighbour_mean
from datasets.graph_building import add_relation, set_modality, unique_edges
from datasets.image_encoder import poster_features
from datasets.mmhn import MMHN, Split
from datasets.posters import POSTER_INDEX, join_posters
from datasets.raw_tables import RawDataError, RawFile, line_of, read_table
from datasets.splits import RANDOM_20_10_70, stratified_split
from datasets.text_encoder import text_features

METADATA = RawFile("imdb-5000/movie_metadata.csv", md5="7c68db40701c36bf2f68bb6bc76ec238")
CLASSES = ("Action", "Comedy", "Drama")
ACTOR_COLUMNS = ("actor_1_name", "actor_2_name", "actor_3_name")
MAGNN_SPLIT_SEED = 1566911444
MAGNN_SPLIT_SIZES = (400, 400, 3478)
_IMDB_ID = re.compile(r"/title/tt(\d+)")

TEXT_FEATURES = ("minilm", "bow")
AUX_IMAGE = ("absent", "mean_of_movies")


@dataclass(frozen=True)
class ImdbOptions:
    text_features: str = "minilm"  # "minilm" (dense, default) or "bow" (MAGNN's keyword bag of words)
    aux_image: str = "absent"  # directors/actors: "absent" (structural) or "mean_of_movies"

    def __post_init__(self) -> None:
        for name, valid in (("text_features", TEXT_FEATURES), ("aux_image", AUX_IMAGE)):
            if getattr(self, name) not in valid:
                raise ValueError(f"dataset 'imdb_mm': option {name}={getattr(self, name)!r} is not one of: {', '.join(valid)}")


@dataclass(frozen=True)
class ImdbGraph:
    """MAGNN's IMDB graph before features: what the tests check against the reference files."""

    imdb_ids: list[int]  # per movie, MAGNN's node order
    titles: list[str]
    plot_keywords: list[str]  # '|'-separated, '' when none
    labels: np.ndarray  # int64, 0..2
    directors: list[str]
    actors: list[str]
    movie_director: Tensor  # [2, 4278]
    movie_actor: Tensor  # [2, 12828]

    @property
    def texts(self) -> list[str]:
        """The text the movie's MiniLM embedding encodes (the reference's ``text`` column)."""
        return [f"{t}. Plot keywords: {k.replace('|', ', ')}." if k else f"{t}." for t, k in zip(self.titles, self.plot_keywords)]


def _first_class(genres: str) -> int:
    for genre in genres.split("|"):
        if genre in CLASSES:
            return CLASSES.index(genre)
    return -1


def build_imdb_graph(data_root: Path) -> ImdbGraph:
    """MAGNN's procedure on ``movie_metadata.csv`` (checked against its md5)."""
    path = data_root / METADATA.path
    table = read_table(path, required=("director_name", "genres", "movie_title", "movie_imdb_link", "plot_keywords", *ACTOR_COLUMNS),
                       expected_md5=METADATA.md5)
    table["source_line"] = [line_of(i) for i in range(len(table))]
    movies = table.dropna(subset=["actor_1_name", "director_name"]).reset_index(drop=True)
    if movies["genres"].isna().any():
        raise RawDataError(f"{path}, line {int(movies['source_line'][movies['genres'].isna()].iloc[0])}: empty 'genres'")
    labels = np.array([_first_class(g) for g in movies["genres"]], dtype=np.int64)
    movies = movies[labels >= 0].reset_index(drop=True)
    labels = labels[labels >= 0]

    imdb_ids = []
    for link, line in zip(movies["movie_imdb_link"], movies["source_line"]):
        match = _IMDB_ID.search(str(link))
        if match is None:
            raise RawDataError(f"{path}, line {line}: movie_imdb_link={link!r} has no IMDb id (expected .../title/tt<digits>/...)")
        imdb_ids.append(int(match.group(1)))

    directors = sorted(set(movies["director_name"]))
    actors = sorted(set(pd.concat([movies[c].dropna() for c in ACTOR_COLUMNS])))
    director_of = {name: i for i, name in enumerate(directors)}
    actor_of = {name: i for i, name in enumerate(actors)}
    movie_director = unique_edges(np.arange(len(movies)), movies["director_name"].map(director_of).to_numpy(), len(directors))
    movie_rows, actor_rows = [], []
    for column in ACTOR_COLUMNS:
        named = movies[column].notna().to_numpy()
        movie_rows.append(np.flatnonzero(named))
        actor_rows.append(movies.loc[named, column].map(actor_of).to_numpy())
    movie_actor = unique_edges(np.concatenate(movie_rows), np.concatenate(actor_rows), len(actors))
    return ImdbGraph(
        imdb_ids=imdb_ids,
        titles=[str(t).strip() for t in movies["movie_title"]],  # titles end in a non-breaking space
        plot_keywords=[str(k) if isinstance(k, str) else "" for k in movies["plot_keywords"]],
        labels=labels,
        directors=directors,
        actors=actors,
        movie_director=movie_director,
        movie_actor=movie_actor,
    )


def magnn_split(num_movies: int) -> Split:
    """MAGNN's split: two seeded ``train_test_split`` calls (val 400, then test 3,478 of the rest)."""
    from sklearn.model_selection import train_test_split

    rest, val = train_test_split(np.arange(num_movies), test_size=MAGNN_SPLIT_SIZES[1], random_state=MAGNN_SPLIT_SEED)
    train, test = train_test_split(rest, test_size=MAGNN_SPLIT_SIZES[2], random_state=MAGNN_SPLIT_SEED)
    train, val, test = (torch.from_numpy(np.sort(part)).long() for part in (train, val, test))
    return Split(name="magnn", train=train, val=val, test=test)


def keyword_bag_of_words(plot_keywords: list[str]) -> np.ndarray:
    """MAGNN's movie features: token counts of the plot keywords, tokens in >= 2 movies (3,066)."""
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(min_df=2).fit_transform(plot_keywords).toarray().astype(np.float32)


@register_dataset("imdb_mm")
class ImdbMM(RawFilesAdapter):
    summary = "IMDB-MM: MAGNN's IMDB graph (movie/director/actor, 3 genres), MiniLM text + EfficientNet poster features"
    default_split = "magnn"
    Options = ImdbOptions
    raw_files = (METADATA, POSTER_INDEX)
    poster_subset = "in_imdb5000"

    def load(self, context: DataContext, options: ImdbOptions) -> MMHN:
        assert context.data_root is not None
        imdb = build_imdb_graph(context.data_root)
        n_movies = len(imdb.imdb_ids)
        graph = HeteroData()
        for node_type, n in (("movie", n_movies), ("director", len(imdb.directors)), ("actor", len(imdb.actors))):
            graph[node_type].num_nodes = n
        add_relation(graph, "movie", "directed_by", "directs", "director", imdb.movie_director)
        add_relation(graph, "movie", "has_actor", "acts_in", "actor", imdb.movie_actor)

        if options.text_features == "bow":
            movie_text = torch.from_numpy(keyword_bag_of_words(imdb.plot_keywords))
        else:
            movie_text = torch.from_numpy(text_features(imdb.texts, context.cache_dir, "imdb_mm movie text (MiniLM)", context.progress))
        posters = join_posters(context.data_root, imdb.imdb_ids)
        image = poster_features(posters.paths, context.cache_dir, "imdb_mm posters (EfficientNet-Lite0)", context.progress)
        movie_image, movie_has_image = torch.from_numpy(image.x), torch.from_numpy(image.present)
        set_modality(graph, "movie", "text", movie_text)
        set_modality(graph, "movie", "image", movie_image, movie_has_image)
        everyone = torch.ones(n_movies, dtype=torch.bool)
        for relation, node_type in ((("movie", "directed_by", "director"), "director"), (("movie", "has_actor", "actor"), "actor")):
            edges = graph[relation].edge_index
            x, present = neighbour_mean(edges, movie_text, everyone, graph[node_type].num_nodes)
            set_modality(graph, node_type, "text", x, present)
            if options.aux_image == "mean_of_movies":
                x, present = neighbour_mean(edges, movie_image, movie_has_image, graph[node_type].num_nodes)
                set_modality(graph, node_type, "image", x, present)
            else:
                set_modality(graph, node_type, "image", None)

        labels = torch.from_numpy(imdb.labels)
        splits = {s.name: s for s in (magnn_split(n_movies), stratified_split(labels, RANDOM_20_10_70, seed=0, name="random_20_10_70"))}
        coverage = int(movie_has_image.sum())
        return MMHN(
            name="imdb_mm",
            graph=graph,
            modalities=("text", "image"),
            target="movie",
            labels=labels,
            class_names=CLASSES,
            splits=splits,
            metapaths=(
                (("movie", "directed_by", "director"), ("director", "directs", "movie")),
                (("movie", "has_actor", "actor"), ("actor", "acts_in", "movie")),
            ),
            description="MAGNN's IMDB graph with MiniLM text and EfficientNet-Lite0 poster features",
            notes={
                "text_features": options.text_features,
                "movie posters": f"{coverage} of {n_movies} ({100 * coverage / n_movies:.1f} %)",
                "posters undecodable": str(len(image.undecodable)),
                "posters listed but not on disk": str(len(posters.not_on_disk)),
            },
        )
