"""Macro/Micro-F1 on examples small enough to compute by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score

from benchmark.metrics import confusion_matrix, f1_scores
from benchmark.statistics import summarize


def test_hand_computed_example() -> None:
    # true:  0 0 0 1 1 2      pred: 0 0 1 1 2 2
    # class 0: tp 2, fp 0, fn 1 -> F1 = 4/5
    # class 1: tp 1, fp 1, fn 1 -> F1 = 2/4
    # class 2: tp 1, fp 1, fn 0 -> F1 = 2/3
    y_true = torch.tensor([0, 0, 0, 1, 1, 2])
    y_pred = torch.tensor([0, 0, 1, 1, 2, 2])
    scores = f1_scores(y_true, y_pred, num_classes=3)
    assert scores.macro == pytest.approx((4 / 5 + 1 / 2 + 2 / 3) / 3)
    assert scores.micro == pytest.approx(4 / 6)


def test_class_absent_from_truth_and_prediction_is_left_out() -> None:
    # Class 2 never occurs: Macro-F1 averages classes 0 and 1 only (scikit-learn's convention).
    scores = f1_scores(torch.tensor([0, 1, 1]), torch.tensor([0, 1, 0]), num_classes=3)
    assert scores.macro == pytest.approx((2 / 3 + 2 / 3) / 2)


def test_predicted_but_never_true_class_counts_as_zero() -> None:
    scores = f1_scores(torch.tensor([0, 0]), torch.tensor([0, 2]), num_classes=3)
    assert scores.macro == pytest.approx((2 / 3 + 0.0) / 2)


def test_agrees_with_scikit_learn_on_random_labels() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        y_true, y_pred = rng.integers(0, 4, 50), rng.integers(0, 4, 50)
        scores = f1_scores(torch.from_numpy(y_true), torch.from_numpy(y_pred), num_classes=4)
        assert scores.macro == pytest.approx(f1_score(y_true, y_pred, average="macro"))
        assert scores.micro == pytest.approx(f1_score(y_true, y_pred, average="micro"))


def test_confusion_matrix_counts() -> None:
    cm = confusion_matrix(torch.tensor([0, 1, 1]), torch.tensor([1, 1, 0]), 2)
    assert cm.tolist() == [[0, 1], [1, 1]]


def test_empty_input_is_an_error() -> None:
    with pytest.raises(ValueError):
        f1_scores(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long), 3)


def test_summary_uses_sample_standard_deviation() -> None:
    summary = summarize([1.0, 2.0, 3.0, 4.0])
    assert summary.mean == 2.5 and summary.n == 4
    assert summary.std == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
