"""Where λ can learn: the cross-entropy never reaches W_MODAL on a relation whose every target
has one neighbour (the softmax over one neighbour is 1 whatever λ), the attention loss does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch_geometric.data import HeteroData

from benchmark.scripts.hgnn_ima_gradients import initial_gradients
from datasets.mmhn import MMHN, Split

pytestmark = pytest.mark.usefixtures("one_torch_thread")

DIRECTOR_OF = [0, 0, 1, 1, 1, 0]  # movie i has exactly one director; each director several movies


def one_director_per_movie() -> MMHN:
    generator = torch.Generator().manual_seed(3)
    movies, directors = len(DIRECTOR_OF), 2
    graph = HeteroData()
    graph["movie"].num_nodes, graph["director"].num_nodes = movies, directors
    graph["movie"].x_text = torch.randn(movies, 5, generator=generator)
    graph["movie"].present_text = torch.ones(movies, dtype=torch.bool)
    graph["movie"].x_image = torch.randn(movies, 3, generator=generator)
    graph["movie"].present_image = torch.ones(movies, dtype=torch.bool)
    graph["director"].x_text = torch.randn(directors, 5, generator=generator)
    graph["director"].present_text = torch.ones(directors, dtype=torch.bool)
    graph["director"].x_image = torch.zeros(directors, 0)  # directors have no image (structural)
    graph["director"].present_image = torch.zeros(directors, dtype=torch.bool)
    directs = torch.tensor([DIRECTOR_OF, list(range(movies))])
    graph["director", "directs", "movie"].edge_index = directs
    graph["movie", "directed_by", "director"].edge_index = directs.flip(0)
    split = Split("fixed", train=torch.tensor([0, 1, 2, 3]), val=torch.tensor([4]), test=torch.tensor([5]))
    return MMHN(name="one_director", graph=graph, modalities=("text", "image"), target="movie",
                labels=torch.tensor([0, 1, 0, 1, 0, 1]), class_names=("a", "b"), splits={"fixed": split}).validate()


def test_cross_entropy_cannot_move_lambda_where_every_target_has_one_neighbour(tmp_path: Path) -> None:
    rows = initial_gradients("hgnn_ima", one_director_per_movie(), "fixed", seed=0,
                             overrides={"hidden": 8, "heads": 2, "layers": 2}, cache_dir=tmp_path)
    assert len(rows) == 2 * 2 * 2  # layers x modalities x relations
    into_movies = [r for r in rows if r.relation == "director-directs-movie"]
    assert all(r.ce_gradient == 0.0 for r in into_movies)
    # directors lack the image, so the attention loss pushes that slice (and, through the
    # softmax over modalities, the text one) in every layer
    assert all(r.attention_loss_gradient > 0 for r in into_movies)
    # a director has several movies: λ on movie -> director edges matters for the director's
    # layer-1 representation, which the movies read in layer 2
    first_layer_into_directors = [r for r in rows if r.relation == "movie-directed_by-director" and r.layer == 1]
    assert all(r.ce_gradient > 0 for r in first_layer_into_directors)


def test_a_method_without_learned_lambda_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="does not learn inter-modal weights"):
        initial_gradients("hgnn_ima_no_inter_modal", one_director_per_movie(), "fixed", 0, {"hidden": 8, "heads": 2}, tmp_path)
