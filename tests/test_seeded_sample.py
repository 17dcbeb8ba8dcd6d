"""Seeded sampling of metapath neighbourhoods: the budget, the cap it implies, and the sample.

HAN keeps every metapath neighbour unless a metapath graph holds more pairs than its budget;
then each target keeps a seeded uniform sample of at most k neighbours, k the largest cap whose
total fits, and always keeps itself.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from methods.layers.metapath_edges import sample_metapath_neighbours
from methods.layers.seeded_sample import largest_cap_within, row_keys, smallest_keys_per_group


@pytest.mark.parametrize(("budget", "cap"), [(9, 5), (100, 5), (8, 4), (7, 3), (5, 2), (3, 1), (2, 1)])
def test_largest_cap_is_the_largest_k_whose_capped_total_fits(budget: int, cap: int) -> None:
    # sizes 1, 3, 5: k = 3 keeps 1 + 3 + 3 = 7, k = 4 keeps 8, k = 5 keeps all 9
    assert largest_cap_within(np.array([5, 1, 3]), budget) == cap


def test_smallest_keys_per_group_keeps_the_cap_smallest_of_each_group() -> None:
    groups = np.array([0, 0, 0, 1, 1, 2])
    keys = np.array([30, 10, 20, 5, 1, 7], dtype=np.uint64)
    assert smallest_keys_per_group(groups, keys, 2).tolist() == [1, 2, 4, 3, 5]
    assert smallest_keys_per_group(groups, keys, 1).tolist() == [1, 4, 5]


def test_row_keys_depend_on_the_seed_and_the_row_only() -> None:
    a, b = np.array([1, 2, 3]), np.array([4, 5, 6])
    keys = row_keys([a, b], seed=0)
    assert np.array_equal(row_keys([a[::-1], b[::-1]], seed=0), keys[::-1])  # order does not matter
    assert not np.array_equal(row_keys([a, b], seed=1), keys)


def star_metapath_graph() -> tuple[torch.Tensor, int]:
    """Target 0 has neighbours 0..9 (itself included), target 1 has 1 and 2, target 2 only itself."""
    src = [*range(10), 1, 2, 2]
    dst = [0] * 10 + [1, 1, 2]
    order = np.lexsort((src, dst))  # sorted by (target, source), as metapath_edge_index returns
    return torch.from_numpy(np.stack([np.array(src)[order], np.array(dst)[order]])), 3


def test_a_graph_within_budget_is_returned_whole() -> None:
    edges, n = star_metapath_graph()
    kept, cap = sample_metapath_neighbours(edges, n, max_pairs=13)
    assert cap == 0 and torch.equal(kept, edges)


def test_over_budget_each_target_keeps_at_most_k_neighbours_and_itself() -> None:
    edges, n = star_metapath_graph()
    kept, cap = sample_metapath_neighbours(edges, n, max_pairs=7, seed=3)
    assert cap == 4  # min(10, 4) + min(2, 4) + min(1, 4) = 7
    assert torch.bincount(kept[1], minlength=n).tolist() == [4, 2, 1]
    pairs = set(map(tuple, kept.T.tolist()))
    assert {(0, 0), (1, 1), (2, 2)} <= pairs
    assert pairs <= set(map(tuple, edges.T.tolist()))
    positions = [edges.T.tolist().index(list(p)) for p in kept.T.tolist()]
    assert positions == sorted(positions)  # the input's order is kept


def test_the_sample_is_fixed_by_the_seed() -> None:
    edges, n = star_metapath_graph()
    first, _ = sample_metapath_neighbours(edges, n, max_pairs=7, seed=3)
    assert torch.equal(sample_metapath_neighbours(edges, n, max_pairs=7, seed=3)[0], first)
    others = {tuple(sample_metapath_neighbours(edges, n, max_pairs=7, seed=s)[0][0].tolist()) for s in range(20)}
    assert len(others) > 1


def test_the_sample_is_uniform_over_the_other_neighbours() -> None:
    # Target 0 keeps itself and 3 of its 9 other neighbours: each is kept with probability 1/3.
    edges, n = star_metapath_graph()
    counts = np.zeros(10)
    seeds = 600
    for seed in range(seeds):
        kept, _ = sample_metapath_neighbours(edges, n, max_pairs=7, seed=seed)
        counts[kept[0][kept[1] == 0].numpy()] += 1
    assert counts[0] == seeds
    # binomial(600, 1/3): std 11.5; 4.5 std either side
    assert np.all(np.abs(counts[1:] - seeds / 3) < 52), counts
