"""validate() accepts a well-formed MMHN and rejects each contract breach by naming the field."""

from __future__ import annotations

import pytest
import torch

from datasets.mmhn import MMHN, MMHNValidationError, Split, feature_key, presence_key
from datasets.synthetic import SyntheticOptions, generate


@pytest.fixture()
def mmhn() -> MMHN:
    return generate(SyntheticOptions(scale=0.05))  # fresh per test: tests mutate it


def test_generated_graph_is_valid(mmhn: MMHN) -> None:
    assert mmhn.validate() is mmhn


def _rejects(mmhn: MMHN, field_fragment: str) -> None:
    with pytest.raises(MMHNValidationError) as caught:
        mmhn.validate()
    assert field_fragment in str(caught.value)


def test_rejects_nan_features(mmhn: MMHN) -> None:
    mmhn.x("item", "text")[3, 1] = float("nan")
    _rejects(mmhn, "item.x_text: NaN or inf values (first in row 3)")


def test_rejects_inf_features(mmhn: MMHN) -> None:
    mmhn.x("creator", "text")[0, 0] = float("inf")
    _rejects(mmhn, "creator.x_text")


def test_rejects_wrong_feature_shape(mmhn: MMHN) -> None:
    mmhn.graph["item"][feature_key("text")] = torch.zeros(mmhn.num_nodes("item") - 1, 4)
    _rejects(mmhn, "item.x_text: expected a [")


def test_rejects_missing_modality_matrix(mmhn: MMHN) -> None:
    del mmhn.graph["keyword"][feature_key("image")]
    _rejects(mmhn, "keyword.x_image: missing")


def test_rejects_mask_that_does_not_match_features(mmhn: MMHN) -> None:
    absent = int((~mmhn.present("item", "image")).nonzero()[0])
    mmhn.x("item", "image")[absent] = 1.0
    _rejects(mmhn, f"item.present_image: does not match its features: row {absent}")


def test_rejects_presence_on_zero_width_features(mmhn: MMHN) -> None:
    mmhn.graph["creator"][presence_key("image")] = torch.ones(mmhn.num_nodes("creator"), dtype=torch.bool)
    _rejects(mmhn, "creator.present_image: marks nodes present but the feature matrix has zero width")


def test_rejects_non_bool_mask(mmhn: MMHN) -> None:
    mmhn.graph["item"][presence_key("text")] = torch.ones(mmhn.num_nodes("item"))
    _rejects(mmhn, "item.present_text: expected a bool tensor")


def test_rejects_labels_out_of_range(mmhn: MMHN) -> None:
    mmhn.labels[5] = 3
    _rejects(mmhn, "labels: label 3 of node 5 is out of range")


def test_rejects_wrong_label_dtype(mmhn: MMHN) -> None:
    mmhn.labels = mmhn.labels.float()
    _rejects(mmhn, "labels: expected an int64 tensor")


def test_rejects_overlapping_splits(mmhn: MMHN) -> None:
    split = mmhn.splits["random_20_10_70"]
    mmhn.splits["random_20_10_70"] = Split(split.name, split.train, torch.cat([split.val, split.train[:1]]), split.test)
    _rejects(mmhn, "splits[random_20_10_70]: train and val overlap (1 nodes")


def test_rejects_unlabelled_node_in_split(mmhn: MMHN) -> None:
    mmhn.labels[mmhn.splits["random_20_10_70"].test[0]] = -1
    _rejects(mmhn, "splits[random_20_10_70].test: contains unlabelled nodes")


def test_accepts_unlabelled_nodes_outside_splits(mmhn: MMHN) -> None:
    split = mmhn.splits["random_20_10_70"]
    outside = split.test[-1]
    mmhn.splits["random_20_10_70"] = Split(split.name, split.train, split.val, split.test[:-1])
    mmhn.labels[outside] = -1
    mmhn.validate()


def test_rejects_edge_index_out_of_range(mmhn: MMHN) -> None:
    edge_index = mmhn.graph["item", "created_by", "creator"].edge_index
    edge_index[1, 7] = mmhn.num_nodes("creator")
    _rejects(mmhn, f"item__created_by__creator.edge_index: edge 7 points to creator node {mmhn.num_nodes('creator')}")


def test_rejects_relation_without_reverse(mmhn: MMHN) -> None:
    del mmhn.graph["keyword", "keyword_of", "item"]
    mmhn.metapaths = mmhn.metapaths[:1]
    _rejects(mmhn, "item__has_keyword__keyword: relation has no reverse")


def test_rejects_reverse_with_different_edges(mmhn: MMHN) -> None:
    store = mmhn.graph["creator", "creates", "item"]
    store.edge_index = store.edge_index[:, 1:]
    _rejects(mmhn, "relation has no reverse")


def test_rejects_metapath_not_ending_at_target(mmhn: MMHN) -> None:
    mmhn.metapaths = ((("item", "created_by", "creator"),),)
    _rejects(mmhn, "metapaths[created_by]: must end at the target type 'item'")


def test_rejects_unknown_target(mmhn: MMHN) -> None:
    mmhn.target = "movie"
    _rejects(mmhn, "target: 'movie' is not a node type")


def test_split_checksum_depends_on_membership_not_order() -> None:
    a = Split("s", torch.tensor([3, 1, 2]), torch.tensor([4]), torch.tensor([0]))
    b = Split("s", torch.tensor([1, 2, 3]), torch.tensor([4]), torch.tensor([0]))
    c = Split("s", torch.tensor([1, 2, 4]), torch.tensor([3]), torch.tensor([0]))
    assert a.checksum == b.checksum != c.checksum
