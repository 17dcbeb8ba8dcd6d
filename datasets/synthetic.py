"""A generated MMHN whose designed properties make fusion, graph and missingness matter.

Node types: ``item`` (target, ~3,000), ``creator`` and ``keyword`` (auxiliary); relations
item-creator and item-keyword with reverses; metapaths item-creator-item, item-keyword-item.

Design (each property is checked by a probe in ``tests/test_synthetic.py``):

* **Complementary modalities.** Class prototypes are placed so that ``text`` separates class
  0 from {1, 2} well but confuses 1 and 2, while ``image`` separates class 2 from {0, 1}
  but confuses 0 and 1: each modality alone is above chance, both together are better.
* **Per-node reliability.** For a fraction of items (``unreliable_rate`` per modality,
  disjoint) one modality is pure noise, so a good fusion weighs modalities per node.
* **Metapath homophily.** Auxiliary nodes have a latent class; an item links to creators
  (keywords) of its own class with probability ``creator_homophily``
  (``keyword_homophily``), so neighbourhood aggregation recovers labels that the item's own
  features miss, and a graph model beats a graph-free one.
* **Missingness.** Auxiliary types have text only (image is structurally absent: a
  zero-width matrix and an all-false mask, as in the HGNN-IMA datasets); a fraction
  ``item_image_missing`` of items lack the image too (completely at random).

Everything is a pure function of the options (``seed`` included); generation takes a few
milliseconds at the default size. ``scale`` multiplies every node count (cost studies).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch_geometric.data import HeteroData

from datasets.adapter import DataContext, DatasetAdapter, register_dataset
from datasets.mmhn import MMHN, feature_key, presence_key
from datasets.splits import RANDOM_20_10_70, stratified_split

CLASSES = ("class_0", "class_1", "class_2")


@dataclass(frozen=True)
class SyntheticOptions:
    seed: int = 0
    scale: float = 1.0
    num_items: int = 3000
    num_creators: int = 600
    num_keywords: int = 300
    text_dim: int = 64
    image_dim: int = 32
    signal: float = 1.0
    noise: float = 1.6
    unreliable_rate: float = 0.2
    item_image_missing: float = 0.2
    creators_per_item: float = 2.0
    keywords_per_item: float = 4.0
    creator_homophily: float = 0.7
    keyword_homophily: float = 0.5


# Prototype coordinates along two class axes: text tells 0 from {1,2}, image tells 2 from {0,1}.
_TEXT_AXES = np.array([[1.0, 0.0], [-0.5, 0.15], [-0.5, -0.15]])
_IMAGE_AXES = np.array([[0.15, 0.5], [-0.15, 0.5], [0.0, -1.0]])


def _prototypes(rng: np.random.Generator, axes: np.ndarray, dim: int, signal: float) -> np.ndarray:
    basis, _ = np.linalg.qr(rng.standard_normal((dim, 2)))  # two orthonormal directions
    return signal * 2.0 * axes @ basis.T


def _bipartite_edges(
    rng: np.random.Generator, item_labels: np.ndarray, aux_labels: np.ndarray, per_item: float, homophily: float
) -> np.ndarray:
    """Each item draws 1 + Poisson(per_item - 1) neighbours, same-class with prob homophily."""
    n_items, n_aux = len(item_labels), len(aux_labels)
    degree = 1 + rng.poisson(max(per_item - 1.0, 0.0), size=n_items)
    item = np.repeat(np.arange(n_items), degree)
    same_class = rng.random(item.size) < homophily
    by_class = [np.flatnonzero(aux_labels == c) for c in range(len(CLASSES))]
    aux = rng.integers(0, n_aux, size=item.size)
    for c, members in enumerate(by_class):
        chosen = same_class & (item_labels[item] == c)
        aux[chosen] = members[rng.integers(0, len(members), size=int(chosen.sum()))]
    codes = np.unique(item.astype(np.int64) * n_aux + aux)
    return np.stack([codes // n_aux, codes % n_aux])


@register_dataset("synthetic")
class SyntheticMMHN(DatasetAdapter):
    summary = "generated MMHN (item/creator/keyword, text+image, 3 classes); runs anywhere"
    default_split = "random_20_10_70"
    Options = SyntheticOptions

    def load(self, context: DataContext, options: SyntheticOptions) -> MMHN:
        return generate(options)


def generate(options: SyntheticOptions = SyntheticOptions()) -> MMHN:
    rng = np.random.default_rng(options.seed)
    n_items = max(30, int(round(options.num_items * options.scale)))
    n_creators = max(3, int(round(options.num_creators * options.scale)))
    n_keywords = max(3, int(round(options.num_keywords * options.scale)))
    n_classes = len(CLASSES)

    y = rng.integers(0, n_classes, size=n_items)
    creator_class = rng.integers(0, n_classes, size=n_creators)
    keyword_class = rng.integers(0, n_classes, size=n_keywords)

    text_proto = _prototypes(rng, _TEXT_AXES, options.text_dim, options.signal)
    image_proto = _prototypes(rng, _IMAGE_AXES, options.image_dim, options.signal)

    def observe(proto: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return proto[labels] + options.noise * rng.standard_normal((len(labels), proto.shape[1]))

    text = observe(text_proto, y)
    image = observe(image_proto, y)
    # Unreliable modality per node: replaced by noise of the same scale, so nothing tells the
    # model which one to trust except agreement with the other modality and the graph.
    which = rng.random(n_items)
    noisy_text = which < options.unreliable_rate
    noisy_image = (which >= options.unreliable_rate) & (which < 2 * options.unreliable_rate)
    text[noisy_text] = options.noise * rng.standard_normal((int(noisy_text.sum()), options.text_dim))
    image[noisy_image] = options.noise * rng.standard_normal((int(noisy_image.sum()), options.image_dim))
    image_present = rng.random(n_items) >= options.item_image_missing
    image[~image_present] = 0.0

    creator_text = observe(0.5 * text_proto, creator_class)
    keyword_text = observe(0.5 * text_proto, keyword_class)

    graph = HeteroData()
    for node_type, n, text_x in (("item", n_items, text), ("creator", n_creators, creator_text), ("keyword", n_keywords, keyword_text)):
        store = graph[node_type]
        store.num_nodes = n
        store[feature_key("text")] = torch.from_numpy(text_x).float()
        store[presence_key("text")] = torch.ones(n, dtype=torch.bool)
        if node_type == "item":
            # Ground truth for tests and analysis only; no method reads ``oracle_*``.
            store.oracle_text_is_noise = torch.from_numpy(noisy_text)
            store.oracle_image_is_noise = torch.from_numpy(noisy_image)
            store[feature_key("image")] = torch.from_numpy(image).float()
            store[presence_key("image")] = torch.from_numpy(image_present)
        else:  # structural missingness: no node of this type has an image
            store[feature_key("image")] = torch.zeros(n, 0)
            store[presence_key("image")] = torch.zeros(n, dtype=torch.bool)

    item_creator = torch.from_numpy(_bipartite_edges(rng, y, creator_class, options.creators_per_item, options.creator_homophily))
    item_keyword = torch.from_numpy(_bipartite_edges(rng, y, keyword_class, options.keywords_per_item, options.keyword_homophily))
    graph["item", "created_by", "creator"].edge_index = item_creator
    graph["creator", "creates", "item"].edge_index = item_creator.flip(0)
    graph["item", "has_keyword", "keyword"].edge_index = item_keyword
    graph["keyword", "keyword_of", "item"].edge_index = item_keyword.flip(0)

    labels = torch.from_numpy(y).long()
    split = stratified_split(labels, RANDOM_20_10_70, seed=0, name="random_20_10_70")
    return MMHN(
        name="synthetic",
        graph=graph,
        modalities=("text", "image"),
        target="item",
        labels=labels,
        class_names=CLASSES,
        splits={split.name: split},
        metapaths=(
            (("item", "created_by", "creator"), ("creator", "creates", "item")),
            (("item", "has_keyword", "keyword"), ("keyword", "keyword_of", "item")),
        ),
        description="generated MMHN with complementary modalities, per-node reliability, metapath homophily and structural + random image missingness",
    )
