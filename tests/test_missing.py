"""The missing-modality transform: paired, nested masks that never empty a node and hide what they drop."""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmark.run import execute_run
from benchmark.spec import RunSpec
from datasets.missing import MissingSetting, apply_masks, dataset_key, dropped_masks, cut_tie, missing_views
from datasets.mmhn import MMHN
from datasets.node_order import degree, two_hop
from datasets.synthetic import SyntheticOptions, generate
from methods.method import METHODS

KEY = "synthetic-test"


def present_count(mmhn: MMHN, node_type: str) -> torch.Tensor:
    return torch.stack([mmhn.present(node_type, m) for m in mmhn.modalities]).sum(dim=0)


@pytest.fixture(scope="module")
def full_mmhn() -> MMHN:
    return generate()


@pytest.fixture(scope="module")
def tiny_mmhn() -> MMHN:
    """150 items: enough for a run to train, small enough for many runs."""
    return generate(SyntheticOptions(scale=0.05))


def test_masks_depend_only_on_dataset_seed_mechanism_modality_and_rate(small_mmhn: MMHN) -> None:
    setting = MissingSetting("mcar", "text", 0.5)
    first = dropped_masks(small_mmhn, setting, seed=3, key=KEY)
    again = dropped_masks(small_mmhn, setting, seed=3, key=KEY)
    assert all(torch.equal(first[t], again[t]) for t in first)
    assert not torch.equal(first["item"], dropped_masks(small_mmhn, setting, seed=4, key=KEY)["item"])
    assert not torch.equal(first["item"], dropped_masks(small_mmhn, setting, seed=3, key="other")["item"])
    # the setting is not part of the draw: train_test and test_only see the same masks
    test_only = dropped_masks(small_mmhn, dataclasses.replace(setting, setting="test_only"), seed=3, key=KEY)
    assert torch.equal(first["item"], test_only["item"])


@pytest.mark.parametrize("mechanism", ["mcar", "degree", "two_hop", "structural"])
def test_masks_are_nested_across_rates(small_mmhn: MMHN, mechanism: str) -> None:
    masks = [dropped_masks(small_mmhn, MissingSetting(mechanism, "image", r), seed=0, key=KEY)["item"] for r in (0.1, 0.3, 0.5, 0.9)]
    for lower, higher in zip(masks, masks[1:]):
        assert bool((lower <= higher).all())  # a node dropped at a lower rate stays dropped


@pytest.mark.parametrize("mechanism", ["mcar", "degree", "two_hop", "structural"])
@pytest.mark.parametrize("modality", ["text", "image"])
def test_no_node_ever_loses_all_of_its_modalities(small_mmhn: MMHN, mechanism: str, modality: str) -> None:
    for seed in range(5):
        views = missing_views(small_mmhn, MissingSetting(mechanism, modality, 1.0), seed, KEY)
        for node_type in small_mmhn.node_types:
            before, after = present_count(small_mmhn, node_type), present_count(views.test, node_type)
            assert bool((after[before > 0] >= 1).all()), f"{node_type} node emptied by {mechanism} {modality}"
    # at rate 1 every item with an image loses its text; the items without an image keep theirs
    views = missing_views(small_mmhn, MissingSetting("mcar", "text", 1.0), 0, KEY)
    has_image = small_mmhn.present("item", "image")
    assert not bool(views.test.present("item", "text")[has_image].any())
    assert bool(views.test.present("item", "text")[~has_image].all())
    assert bool(views.test.present("creator", "text").all())  # text is a creator's only modality


@pytest.mark.parametrize("modality", ["text", "image"])
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_mcar_drops_a_fraction_r_of_the_eligible_nodes(full_mmhn: MMHN, modality: str, rate: float) -> None:
    other = "image" if modality == "text" else "text"
    eligible = full_mmhn.present("item", modality) & full_mmhn.present("item", other)
    n = int(eligible.sum())
    fractions = []
    for seed in range(5):
        dropped = dropped_masks(full_mmhn, MissingSetting("mcar", modality, rate), seed, KEY)["item"]
        assert not bool(dropped[~eligible].any())
        fractions.append(float(dropped[eligible].float().mean()))
        assert abs(fractions[-1] - rate) <= 4 * math.sqrt(rate * (1 - rate) / n)  # 4 binomial standard errors
    assert abs(np.mean(fractions) - rate) <= 4 * math.sqrt(rate * (1 - rate) / (5 * n))


def test_degree_drops_the_lowest_degree_nodes_first(full_mmhn: MMHN) -> None:
    for node_type, modality in (("item", "image"), ("item", "text")):
        setting = MissingSetting("degree", modality, 0.3)
        dropped = dropped_masks(full_mmhn, setting, seed=0, key=KEY)[node_type].numpy()
        other = [m for m in full_mmhn.modalities if m != modality][0]
        eligible = (full_mmhn.present(node_type, modality) & full_mmhn.present(node_type, other)).numpy()
        deg = degree(full_mmhn, node_type)
        assert dropped.sum() == int(np.floor(0.3 * eligible.sum() + 0.5))
        assert deg[dropped].max() <= deg[eligible & ~dropped].min()
        assert deg[dropped].mean() < deg[eligible & ~dropped].mean()  # the degrees differ: a real ordering


@pytest.mark.parametrize(
    "dropped, share",
    [
        ([1, 0, 0, 0, 0, 0], 0.0),  # the one node of degree 1: the degree decided
        ([1, 1, 0, 1, 0, 0], 2 / 3),  # node 0, then two of the three nodes of degree 2 by the draw
        ([1, 1, 1, 1, 0, 0], 0.0),  # every node of degree 2 dropped: nothing left to chance
        ([1, 1, 1, 1, 1, 0], 1 / 5),  # one of the two nodes of degree 3 by the draw
        ([0, 0, 0, 0, 0, 0], 0.0),
    ],
)
def test_cut_tie_counts_the_dropped_nodes_the_draw_chose(dropped: list[int], share: float) -> None:
    eligible = np.ones(6, dtype=bool)
    degree = np.array([1, 2, 2, 2, 3, 3])
    assert cut_tie(eligible, degree, np.array(dropped, dtype=bool)).share == pytest.approx(share)


def test_cut_tie_ignores_ineligible_nodes_of_the_cut_degree() -> None:
    eligible = np.array([True, True, False, False])  # nodes 2 and 3 cannot lose the modality
    degree = np.array([2, 2, 2, 2])
    assert cut_tie(eligible, degree, np.array([True, True, False, False])).share == 0.0
    assert cut_tie(eligible, degree, np.array([True, False, False, False])).share == 1.0


def test_degree_warns_when_ties_not_degrees_choose_the_dropped_nodes(full_mmhn: MMHN) -> None:
    # one creator and one keyword per item: every item has degree 2, so the order is the draw's
    flat = generate(SyntheticOptions(scale=0.1, creators_per_item=1.0, keywords_per_item=1.0))
    with pytest.warns(UserWarning, match=r"'degree' on 'synthetic', node type 'item', r=0\.5: .* share degree 2, so this curve is close to mcar"):
        dropped_masks(flat, MissingSetting("degree", "image", 0.5), seed=0, key=KEY)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default graph's degrees differ: no warning
        dropped_masks(full_mmhn, MissingSetting("degree", "image", 0.3), seed=0, key=KEY)


def test_two_hop_drops_the_nodes_with_fewest_two_hop_neighbours_first(full_mmhn: MMHN) -> None:
    dropped = dropped_masks(full_mmhn, MissingSetting("two_hop", "image", 0.3), seed=0, key=KEY)["item"].numpy()
    eligible = (full_mmhn.present("item", "image") & full_mmhn.present("item", "text")).numpy()
    score = two_hop(full_mmhn, "item")
    assert dropped.sum() == int(np.floor(0.3 * eligible.sum() + 0.5))
    assert score[dropped].max() <= score[eligible & ~dropped].min()
    assert score[dropped].mean() < score[eligible & ~dropped].mean()


def test_two_hop_orders_a_graph_whose_degrees_all_tie() -> None:
    # the graph on which degree is a random draw (every item has degree 2): creators and
    # keywords differ in popularity, so items differ in how many items they reach
    flat = generate(SyntheticOptions(scale=0.1, creators_per_item=1.0, keywords_per_item=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dropped = dropped_masks(flat, MissingSetting("two_hop", "image", 0.5), seed=0, key=KEY)["item"].numpy()
    score = two_hop(flat, "item")
    eligible = (flat.present("item", "image") & flat.present("item", "text")).numpy()
    assert cut_tie(eligible, score, dropped).share <= 0.5
    assert score[dropped].mean() < score[eligible & ~dropped].mean()


def test_structural_drops_whole_node_types_with_probability_r(small_mmhn: MMHN) -> None:
    dropped_item_type = 0
    seeds = 400
    for seed in range(seeds):
        item = dropped_masks(small_mmhn, MissingSetting("structural", "image", 0.3), seed, KEY)["item"]
        eligible = small_mmhn.present("item", "image")  # every item has text
        assert torch.equal(item, eligible) or not bool(item.any())  # all of the type's eligible nodes, or none
        dropped_item_type += bool(item.any())
    assert abs(dropped_item_type / seeds - 0.3) <= 4 * math.sqrt(0.3 * 0.7 / seeds)


def test_dropped_entries_are_zeroed_and_unflagged_and_the_graph_stays_valid(small_mmhn: MMHN) -> None:
    views = missing_views(small_mmhn, MissingSetting("mcar", "image", 0.5), 0, KEY)
    was, now = small_mmhn.present("item", "image"), views.test.present("item", "image")
    lost = was & ~now
    assert 0 < int(lost.sum()) < int(was.sum())
    assert bool((views.test.x("item", "image")[lost] == 0).all())
    assert torch.equal(views.test.x("item", "image")[now], small_mmhn.x("item", "image")[now])
    assert torch.equal(views.test.x("item", "text"), small_mmhn.x("item", "text"))  # other modalities untouched
    assert small_mmhn.present("item", "image") is was and bool(was[lost].all())  # the input graph is not modified
    views.test.validate()
    assert views.target_missing["image"] == pytest.approx(float((~now).float().mean()))


def test_settings_choose_the_graph_of_training_and_of_the_test(small_mmhn: MMHN) -> None:
    train_test = missing_views(small_mmhn, MissingSetting("mcar", "text", 0.5, "train_test"), 0, KEY)
    test_only = missing_views(small_mmhn, MissingSetting("mcar", "text", 0.5, "test_only"), 0, KEY)
    assert train_test.train is train_test.test
    assert test_only.train is small_mmhn  # trains and selects on the complete graph
    assert torch.equal(test_only.test.present("item", "text"), train_test.test.present("item", "text"))
    assert test_only.mask_checksum == train_test.mask_checksum
    none = missing_views(small_mmhn, MissingSetting(), 0, KEY)
    assert none.train is none.test is small_mmhn and none.mask_checksum == ""


def with_hidden_values_changed(mmhn: MMHN, modality: str, dropped: torch.Tensor) -> MMHN:
    """The same graph, but the values that the masks will hide are different."""
    x = mmhn.x("item", modality).clone()
    x[dropped] = 10 * torch.randn(int(dropped.sum()), x.shape[1], generator=torch.Generator().manual_seed(1))
    return mmhn.with_features("item", modality, x, mmhn.present("item", modality))


def spec(method: str, missing: MissingSetting, seed: int = 0) -> RunSpec:
    return RunSpec(method=method, dataset="synthetic", split="random_20_10_70", seed=seed,
                   hparams=METHODS.get(method).resolved_config(), max_epochs=6, patience=3, missing=missing)


@pytest.mark.parametrize("method", METHODS.names())
def test_hidden_values_of_dropped_entries_do_not_move_any_output(tiny_mmhn: MMHN, tmp_path: Path, method: str) -> None:
    missing = MissingSetting("mcar", "text", 0.5, "train_test")
    dropped = dropped_masks(tiny_mmhn, missing, 0, dataset_key("synthetic", {}))["item"]
    changed = with_hidden_values_changed(tiny_mmhn, "text", dropped)
    assert changed.fingerprint() != tiny_mmhn.fingerprint()
    a = execute_run(spec(method, missing), tiny_mmhn, tmp_path)
    b = execute_run(spec(method, missing), changed, tmp_path)
    assert a.ok and b.ok
    assert a.metrics == b.metrics and a.cost.best_epoch == b.cost.best_epoch  # type: ignore[union-attr]
    assert a.mask_checksum == b.mask_checksum != ""
    # and without the transform the change is visible in the untrained model's logits (the
    # test can fail); metrics alone could hide it while a slow learner predicts one class
    masked = [missing_views(g, missing, 0, dataset_key("synthetic", {})).train for g in (tiny_mmhn, changed)]
    assert torch.equal(*(initial_logits(method, g, tmp_path) for g in masked))
    assert not torch.equal(initial_logits(method, tiny_mmhn, tmp_path), initial_logits(method, changed, tmp_path))


def initial_logits(method: str, mmhn: MMHN, cache_dir: Path) -> torch.Tensor:
    entry = METHODS.get(method)
    torch.manual_seed(0)
    model = entry.build(mmhn, entry.config({}), cache_dir).eval()
    with torch.no_grad():
        return model(mmhn).logits


def test_every_method_sees_the_same_masks(tiny_mmhn: MMHN, tmp_path: Path) -> None:
    missing = MissingSetting("degree", "image", 0.3, "test_only")
    mlp = execute_run(spec("mlp", missing, seed=2), tiny_mmhn, tmp_path)
    hgt = execute_run(spec("early_fusion_hgt", missing, seed=2), tiny_mmhn, tmp_path)
    assert mlp.ok and hgt.ok
    assert mlp.mask_checksum == hgt.mask_checksum != ""
    assert mlp.target_missing == hgt.target_missing
    assert execute_run(spec("mlp", missing, seed=3), tiny_mmhn, tmp_path).mask_checksum != mlp.mask_checksum
    assert execute_run(spec("mlp", MissingSetting()), tiny_mmhn, tmp_path).mask_checksum == ""


def test_test_only_trains_and_selects_exactly_like_the_plain_run(tiny_mmhn: MMHN, tmp_path: Path) -> None:
    """Validation is complete in test_only: the selected epoch and validation score are the plain run's."""
    plain = execute_run(spec("early_fusion_hgt", MissingSetting()), tiny_mmhn, tmp_path)
    test_only = execute_run(spec("early_fusion_hgt", MissingSetting("mcar", "image", 0.9, "test_only")), tiny_mmhn, tmp_path)
    train_test = execute_run(spec("early_fusion_hgt", MissingSetting("mcar", "image", 0.9, "train_test")), tiny_mmhn, tmp_path)
    assert test_only.cost.best_epoch == plain.cost.best_epoch  # type: ignore[union-attr]
    assert test_only.metrics.val_macro_f1 == plain.metrics.val_macro_f1  # type: ignore[union-attr]
    assert test_only.metrics.train_macro_f1 == plain.metrics.train_macro_f1  # type: ignore[union-attr]
    assert test_only.metrics.test_macro_f1 != plain.metrics.test_macro_f1  # type: ignore[union-attr]
    assert train_test.metrics.val_macro_f1 != plain.metrics.val_macro_f1  # type: ignore[union-attr]


def test_apply_masks_to_an_unknown_modality_names_the_valid_ones(tiny_mmhn: MMHN) -> None:
    with pytest.raises(ValueError, match="missing modality 'audio' is not a modality of 'synthetic'; valid: text, image"):
        dropped_masks(tiny_mmhn, MissingSetting("mcar", "audio", 0.5), 0, KEY)
    assert apply_masks(tiny_mmhn, "text", {}) is tiny_mmhn


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mechanism": "mnar"}, "missing mechanism 'mnar'; valid: none, mcar, degree, two_hop, structural, natural"),
        ({"mechanism": "mcar", "modality": "text", "rate": 1.5}, "missing rate 1.5 is outside [0, 1]"),
        ({"mechanism": "mcar", "modality": "text", "setting": "train"}, "missing setting 'train'; valid: train_test, test_only"),
        ({"mechanism": "mcar", "rate": 0.5}, "missing mechanism 'mcar' needs a modality"),
        ({"mechanism": "natural", "modality": "image", "rate": 0.5}, "drops nothing"),
    ],
)
def test_a_malformed_setting_is_rejected_by_name(fields: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        MissingSetting(**fields)
