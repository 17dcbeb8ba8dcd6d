"""Classification metrics on the target nodes: Macro-F1 (primary) and Micro-F1."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class F1Scores:
    macro: float
    micro: float


def confusion_matrix(y_true: Tensor, y_pred: Tensor, num_classes: int) -> Tensor:
    """``C[i, j]`` = number of nodes of true class i predicted as j."""
    codes = y_true.long() * num_classes + y_pred.long()
    return torch.bincount(codes, minlength=num_classes * num_classes).view(num_classes, num_classes)


def f1_scores(y_true: Tensor, y_pred: Tensor, num_classes: int) -> F1Scores:
    """Macro-F1 and Micro-F1 for single-label classification.

    Conventions (those of scikit-learn's ``f1_score``): Macro-F1 averages the per-class F1
    over the classes that occur in ``y_true`` or ``y_pred``; a class with no true and no
    predicted node is left out rather than counted as 0 or 1. Micro-F1 equals accuracy.
    """
    if y_true.numel() == 0:
        raise ValueError("f1_scores of an empty set of nodes")
    cm = confusion_matrix(y_true.cpu(), y_pred.cpu(), num_classes).double()
    tp = cm.diag()
    support_true, support_pred = cm.sum(1), cm.sum(0)
    occurring = (support_true + support_pred) > 0
    f1 = 2 * tp / (support_true + support_pred).clamp_min(1)
    macro = float(f1[occurring].mean())
    micro = float(tp.sum() / cm.sum())
    return F1Scores(macro=macro, micro=micro)
