"""Seeded sampling within groups: keep at most ``cap`` rows per group, chosen by a hash.

Used wherever a metapath neighbourhood is too large to keep whole (MAGNN's instances, HAN's
metapath neighbours). The key of a row depends only on the seed and the row's own values, so
the sample is uniform without replacement within each group and does not depend on the order
in which rows were enumerated, nor on how they were chunked.
"""

from __future__ import annotations

import numpy as np


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijective, well-diffused hash of uint64 values (wraps)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def row_keys(columns: list[np.ndarray], seed: int) -> np.ndarray:
    """A pseudo-random uint64 key per row that depends only on ``seed`` and the row's values."""
    with np.errstate(over="ignore"):
        key = _mix(np.full(len(columns[0]), np.uint64(seed) + np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64))
        for column in columns:
            key = _mix(key ^ column.astype(np.uint64))
    return key


def smallest_keys_per_group(groups: np.ndarray, keys: np.ndarray, cap: int) -> np.ndarray:
    """Indices of the rows with the ``cap`` smallest keys in each group (all rows if fewer).

    Returned in (group, key) order. Ties in a key (practically never, for 64-bit hashes) are
    broken by position.
    """
    order = np.lexsort((keys, groups))
    sorted_groups = groups[order]
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]]) if len(order) else np.zeros(0, dtype=np.int64)
    sizes = np.diff(np.r_[starts, len(order)])
    rank = np.arange(len(order)) - np.repeat(starts, sizes)
    return order[rank < cap]


def largest_cap_within(group_sizes: np.ndarray, budget: int) -> int:
    """The largest ``k`` with ``sum(min(size, k)) <= budget`` (at least 1).

    The per-group cap that spends a total budget of rows as evenly as possible: small groups
    stay whole, large ones are cut to the same size.
    """
    sizes = np.sort(group_sizes.astype(np.int64))
    if int(sizes.sum()) <= budget:
        return int(sizes[-1]) if len(sizes) else 0
    # kept(k) = sum of sizes below k + k * (groups with size >= k): monotone in k.
    low, high = 1, int(sizes[-1])
    prefix = np.r_[0, np.cumsum(sizes)]
    while low < high:
        k = (low + high + 1) // 2
        below = int(np.searchsorted(sizes, k, side="left"))
        if int(prefix[below]) + k * (len(sizes) - below) <= budget:
            low = k
        else:
            high = k - 1
    return low
