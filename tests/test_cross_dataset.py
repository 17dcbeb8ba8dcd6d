"""Average ranks across datasets, and Friedman + Nemenyi against independent formulas."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from benchmark.comparison import analyse_section
from benchmark.cross_dataset import rank_across
from benchmark.rows import leaderboard_rows, sections
from tests.record_factory import make_record

# mean test Macro-F1 per dataset (rows) and method (columns); one seed each keeps it readable
METHODS = ["a", "b", "c", "d"]
SCORES = {
    "d1": [0.80, 0.70, 0.60, 0.50],
    "d2": [0.75, 0.75, 0.60, 0.55],  # a and b tie: ranks 1.5, 1.5
    "d3": [0.70, 0.72, 0.50, 0.55],
    "d4": [0.90, 0.85, 0.80, 0.70],
    "d5": [0.66, 0.60, 0.62, 0.50],
}


def analyses_for(datasets: list[str], drop: tuple[str, str] | None = None):
    records = [make_record(method, dataset, 0, SCORES[dataset][j])
               for dataset in datasets for j, method in enumerate(METHODS) if (dataset, method) != drop]
    return [analyse_section(key, rows) for key, rows in sections(leaderboard_rows(records)).items()]


def test_average_ranks_with_ties() -> None:
    ranking = rank_across(analyses_for(["d1", "d2", "d3"]), "standard")
    by_method = {e.method: e for e in ranking.entries}
    # d1: a1 b2 c3 d4; d2: a1.5 b1.5 c3 d4; d3: b1 a2 d3 c4
    assert by_method["a"].ranks == (1.0, 1.5, 2.0)
    assert by_method["b"].ranks == (2.0, 1.5, 1.0)
    assert by_method["c"].average_rank == pytest.approx((3 + 3 + 4) / 3)
    assert [e.method for e in ranking.entries] == ["a", "b", "c", "d"]  # a and b tie at 1.5: by name


def test_no_diagram_below_five_datasets_and_the_reason_is_given() -> None:
    ranking = rank_across(analyses_for(["d1", "d2", "d3", "d4"]), "standard")
    assert ranking.friedman is None
    assert "at least 5 datasets" in ranking.no_diagram_reason and "has 4" in ranking.no_diagram_reason


def test_a_method_missing_on_a_dataset_is_listed_apart() -> None:
    ranking = rank_across(analyses_for(["d1", "d2"], drop=("d2", "c")), "standard")
    assert [e.method for e in ranking.entries] == ["a", "b", "d"]
    assert [(m, missing) for m, _, missing in ranking.incomplete] == [("c", ("d2 (split `fixed`, protocol `standard`, device cpu)",))]
    assert ranking.entries[-1].ranks == (3.0, 3.0)  # d re-ranked among the complete entries


def test_friedman_and_nemenyi_match_independent_formulas() -> None:
    datasets = ["d1", "d2", "d3", "d4", "d5"]
    ranking = rank_across(analyses_for(datasets), "standard")
    assert ranking.friedman is not None
    # Friedman's chi-square as scipy computes it, blocks = datasets
    columns = [[SCORES[d][j] for d in datasets] for j in range(len(METHODS))]
    assert ranking.friedman.p_value == pytest.approx(stats.friedmanchisquare(*columns).pvalue, rel=1e-9)
    # Nemenyi CD = q_alpha * sqrt(k (k + 1) / (6 N)), q_alpha = studentized range quantile / sqrt(2)
    k, n = len(METHODS), len(datasets)
    q = stats.studentized_range.ppf(0.95, k, math.inf) / math.sqrt(2)
    assert ranking.friedman.critical_difference == pytest.approx(q * math.sqrt(k * (k + 1) / (6 * n)), rel=1e-3)
