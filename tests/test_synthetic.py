"""The synthetic MMHN has the properties it was designed for, checked with linear probes.

A probe is a logistic regression trained on the train split and scored (Macro-F1) on the
validation split; chance is about 0.33 for three balanced classes.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score

from datasets.mmhn import MMHN
from datasets.synthetic import SyntheticOptions, generate


@pytest.fixture(scope="module")
def mmhn() -> MMHN:
    return generate()


def probe(mmhn: MMHN, features: np.ndarray) -> float:
    split = mmhn.splits["random_20_10_70"]
    y = mmhn.labels.numpy()
    model = LogisticRegression(max_iter=3000).fit(features[split.train], y[split.train])
    return f1_score(y[split.val], model.predict(features[split.val]), average="macro")


def metapath_mean(mmhn: MMHN, features: np.ndarray) -> np.ndarray:
    """Mean of other items' features over each metapath item-X-item, concatenated."""
    n = mmhn.num_nodes("item")
    blocks = []
    for path in mmhn.metapaths:
        edges = mmhn.graph[path[0]].edge_index.numpy()
        incidence = sp.csr_matrix((np.ones(edges.shape[1]), (edges[0], edges[1])), shape=(n, mmhn.num_nodes(path[0][2])))
        reach = (incidence @ incidence.T).tolil()
        reach.setdiag(0)
        reach = reach.tocsr()
        degree = np.asarray(reach.sum(axis=1)).ravel()
        blocks.append((reach @ features) / np.maximum(degree, 1)[:, None])
    return np.hstack(blocks)


def test_default_size_and_shape(mmhn: MMHN) -> None:
    assert mmhn.num_nodes("item") == 3000
    assert set(mmhn.node_types) == {"item", "creator", "keyword"}
    assert mmhn.modalities == ("text", "image")
    assert mmhn.num_classes == 3
    assert mmhn.feature_dim("item", "text") == 64 and mmhn.feature_dim("item", "image") == 32


def test_dimensions_are_configurable() -> None:
    small = generate(SyntheticOptions(scale=0.1, text_dim=16, image_dim=8))
    assert small.feature_dim("item", "text") == 16 and small.feature_dim("item", "image") == 8
    assert small.num_nodes("item") == 300


def test_same_seed_same_graph_other_seed_other_graph() -> None:
    assert generate(SyntheticOptions(seed=4)).fingerprint() == generate(SyntheticOptions(seed=4)).fingerprint()
    assert generate(SyntheticOptions(seed=4)).fingerprint() != generate(SyntheticOptions(seed=5)).fingerprint()


def test_each_modality_alone_beats_chance_and_both_beat_either(mmhn: MMHN) -> None:
    text, image = mmhn.x("item", "text").numpy(), mmhn.x("item", "image").numpy()
    f1_text, f1_image, f1_both = probe(mmhn, text), probe(mmhn, image), probe(mmhn, np.hstack([text, image]))
    assert f1_text > 0.40 and f1_image > 0.40
    assert f1_both > max(f1_text, f1_image) + 0.05


def test_metapath_neighbours_carry_label_signal_a_graph_free_probe_lacks(mmhn: MMHN) -> None:
    own = np.hstack([mmhn.x("item", "text").numpy(), mmhn.x("item", "image").numpy()])
    with_graph = np.hstack([own, metapath_mean(mmhn, own)])
    assert probe(mmhn, with_graph) > probe(mmhn, own) + 0.10


def test_auxiliary_types_lack_images_structurally(mmhn: MMHN) -> None:
    for node_type in ("creator", "keyword"):
        assert mmhn.feature_dim(node_type, "image") == 0
        assert not mmhn.present(node_type, "image").any()
        assert mmhn.present(node_type, "text").all()


def test_a_fraction_of_items_lack_the_image(mmhn: MMHN) -> None:
    missing = 1 - mmhn.present("item", "image").float().mean().item()
    assert 0.15 < missing < 0.25  # item_image_missing = 0.2
    assert torch.all(mmhn.x("item", "image")[~mmhn.present("item", "image")] == 0)


def test_reliability_varies_per_node(mmhn: MMHN) -> None:
    """Items whose text is pure noise: a text probe is near chance on them, not elsewhere."""
    noisy_text = mmhn.graph["item"].oracle_text_is_noise.numpy()
    assert 0.15 < noisy_text.mean() < 0.25  # unreliable_rate = 0.2

    text, y = mmhn.x("item", "text").numpy(), mmhn.labels.numpy()
    split = mmhn.splits["random_20_10_70"]
    train = np.intersect1d(split.train.numpy(), np.flatnonzero(~noisy_text))
    model = LogisticRegression(max_iter=3000).fit(text[train], y[train])
    test = split.test.numpy()
    accuracy_noisy = (model.predict(text[test][noisy_text[test]]) == y[test][noisy_text[test]]).mean()
    accuracy_clean = (model.predict(text[test][~noisy_text[test]]) == y[test][~noisy_text[test]]).mean()
    assert accuracy_noisy < 0.40  # chance is 1/3
    assert accuracy_clean > accuracy_noisy + 0.10
