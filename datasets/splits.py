"""Named splits of the target nodes: stratified random splits with a fixed seed."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from datasets.mmhn import Split


def stratified_split(labels: Tensor, ratios: tuple[float, float, float], seed: int, name: str) -> Split:
    """Split the labelled nodes (label >= 0) class by class into train/val/test.

    Each class is shuffled with a generator seeded by ``seed`` and cut at the ratios (rounded
    down for train and val, the rest to test), so every part keeps the class balance and
    the split is a pure function of (labels, ratios, seed).
    """
    if abs(sum(ratios) - 1.0) > 1e-9 or min(ratios) <= 0:
        raise ValueError(f"split ratios must be positive and sum to 1, got {ratios}")
    rng = np.random.default_rng(seed)
    y = labels.cpu().numpy()
    parts: tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]] = ([], [], [])
    for label in np.unique(y[y >= 0]):
        members = rng.permutation(np.flatnonzero(y == label))
        n_train = int(len(members) * ratios[0])
        n_val = int(len(members) * ratios[1])
        parts[0].append(members[:n_train])
        parts[1].append(members[n_train : n_train + n_val])
        parts[2].append(members[n_train + n_val :])
    train, val, test = (torch.from_numpy(np.sort(np.concatenate(p))).long() for p in parts)
    return Split(name=name, train=train, val=val, test=test)


RANDOM_20_10_70 = (0.2, 0.1, 0.7)
