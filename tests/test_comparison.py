"""Tie groups and ranks within one leaderboard section, on constructed per-seed scores."""

from __future__ import annotations

import pytest

from benchmark.comparison import analyse_section
from benchmark.rows import leaderboard_rows, sections
from benchmark.significance import holm, wilcoxon_signed_rank_p
from tests.record_factory import make_record

# Per-seed test Macro-F1 over seeds 0..9; the jitter keeps the differences from being constant.
JITTER = [0.001, -0.002, 0.003, 0.0, -0.001, 0.002, -0.003, 0.0015, -0.0005, 0.0025]
BEST = [0.70 + j for j in JITTER]
CLEARLY_WORSE = [b - 0.03 - 0.5 * j for b, j in zip(BEST, JITTER)]  # below the best on every seed
NOISY_TIE = [b + (0.01 if i % 2 else -0.012) for i, b in enumerate(BEST)]  # mean slightly below, signs mixed


def analysis_of(scores: dict[str, list[float]], seeds: dict[str, list[int]] | None = None):
    records = [make_record(method, "toy", seed, values[seed] if seeds else values[i])
               for method, values in scores.items()
               for i, seed in enumerate((seeds or {}).get(method, range(len(values))))]
    ((key, rows),) = sections(leaderboard_rows(records)).items()
    return analyse_section(key, rows)


def test_tie_group_is_best_plus_rows_not_significantly_worse() -> None:
    analysis = analysis_of({"best": BEST, "worse": CLEARLY_WORSE, "noisy": NOISY_TIE})
    by_label = {a.label: a for a in analysis.rows}
    assert analysis.reference.label == "best"
    assert [a.label for a in analysis.tie_group] == ["best", "noisy"]
    # worse: 10 of 10 seeds below -> exact p = 2/1024, Holm over the two compared rows
    raw = [wilcoxon_signed_rank_p([w - b for w, b in zip(CLEARLY_WORSE, BEST)]),
           wilcoxon_signed_rank_p([n - b for n, b in zip(NOISY_TIE, BEST)])]
    assert raw[0] == pytest.approx(2 / 1024)
    assert by_label["worse"].wilcoxon_holm == pytest.approx(holm(raw)[0])
    assert by_label["noisy"].wilcoxon_holm == pytest.approx(holm(raw)[1])
    assert by_label["noisy"].wilcoxon_holm >= 0.05
    # ranks: the tie group shares 1; "worse" keeps its rank by mean (3rd of 3)
    assert [(a.label, a.rank, a.mean_rank) for a in analysis.rows] == [("best", 1, 1), ("noisy", 1, 2), ("worse", 3, 3)]


def test_with_five_seeds_nothing_can_be_significantly_worse() -> None:
    analysis = analysis_of({"best": BEST[:5], "worse": CLEARLY_WORSE[:5]})
    assert [a.label for a in analysis.tie_group] == ["best", "worse"]
    assert analysis.rows[1].wilcoxon_holm == pytest.approx(0.0625)


def test_missing_seeds_pair_on_the_intersection() -> None:
    seeds = {"best": list(range(10)), "worse": [0, 1, 2, 4, 5, 6, 7, 8, 9]}  # seed 3 missing
    analysis = analysis_of({"best": BEST, "worse": CLEARLY_WORSE}, seeds)
    worse = analysis.rows[1]
    assert worse.comparison is not None and worse.comparison.seeds == (0, 1, 2, 4, 5, 6, 7, 8, 9)
    assert worse.wilcoxon_holm == pytest.approx(2 / 512)
    assert not worse.in_tie_group


def test_equal_means_tie_in_rank_and_the_reference_is_chosen_by_name() -> None:
    analysis = analysis_of({"zeta": BEST, "alpha": BEST})
    assert analysis.reference.label == "alpha"
    assert [a.mean_rank for a in analysis.rows] == [1.5, 1.5]
    assert analysis.rows[1].wilcoxon_holm == 1.0  # identical runs


def test_a_row_without_shared_seeds_is_not_in_the_tie_group() -> None:
    seeds = {"best": [0, 1, 2], "other": [5, 6, 7]}
    analysis = analysis_of({"best": BEST, "other": CLEARLY_WORSE}, seeds)
    assert [a.label for a in analysis.tie_group] == ["best"]
    assert analysis.rows[1].comparison.n_pairs == 0  # type: ignore[union-attr]
