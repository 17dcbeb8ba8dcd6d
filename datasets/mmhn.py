"""The MMHN data contract: a heterogeneous graph whose nodes carry several modalities.

An :class:`MMHN` wraps a PyG ``HeteroData`` and says how to read it:

* every node type stores, for every modality ``m``, a float matrix ``x_<m>`` (zeros where
  the modality is absent) and a boolean presence mask ``present_<m>``. A node type without
  raw features for ``m`` carries an all-false mask and may use a zero-width matrix
  (structural missingness). One modality is never filled with another.
* the target node type has integer labels (``-1`` = unlabelled: stays in the graph, never in
  a split) and named splits, each a :class:`Split` with a checksum.
* every relation has its reverse; metapaths are tuples of edge types for metapath methods.

:meth:`MMHN.validate` rejects a malformed graph with an :class:`MMHNValidationError` that
names the offending field, so an adapter bug surfaces where it is made, not as a NaN later.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import HeteroData

EdgeType = tuple[str, str, str]
Metapath = tuple[EdgeType, ...]


class MMHNValidationError(ValueError):
    """A field of an MMHN breaks the data contract; the message names the field."""


def feature_key(modality: str) -> str:
    return f"x_{modality}"


def presence_key(modality: str) -> str:
    return f"present_{modality}"


def index_checksum(*indices: Tensor) -> str:
    """A short content hash of index tensors (order-insensitive within each tensor)."""
    digest = hashlib.sha256()
    for index in indices:
        values = np.sort(index.detach().cpu().numpy().astype(np.int64))
        digest.update(len(values).to_bytes(8, "little"))
        digest.update(values.tobytes())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Split:
    """Train/validation/test indices into the target node type."""

    name: str
    train: Tensor
    val: Tensor
    test: Tensor

    @property
    def checksum(self) -> str:
        return index_checksum(self.train, self.val, self.test)

    @property
    def sizes(self) -> tuple[int, int, int]:
        return (int(self.train.numel()), int(self.val.numel()), int(self.test.numel()))

    def to(self, device: torch.device | str) -> Split:
        return replace(self, train=self.train.to(device), val=self.val.to(device), test=self.test.to(device))


@dataclass
class MMHN:
    """A multi-modal heterogeneous network with a node-classification target."""

    name: str
    graph: HeteroData
    modalities: tuple[str, ...]
    target: str
    labels: Tensor
    class_names: tuple[str, ...]
    splits: dict[str, Split]
    metapaths: tuple[Metapath, ...] = ()
    description: str = ""
    notes: dict[str, str] = field(default_factory=dict)

    # -- reading -----------------------------------------------------------------------
    @property
    def node_types(self) -> list[str]:
        return list(self.graph.node_types)

    @property
    def edge_types(self) -> list[EdgeType]:
        return list(self.graph.edge_types)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def num_nodes(self, node_type: str) -> int:
        return int(self.graph[node_type].num_nodes)

    def x(self, node_type: str, modality: str) -> Tensor:
        return self.graph[node_type][feature_key(modality)]

    def present(self, node_type: str, modality: str) -> Tensor:
        return self.graph[node_type][presence_key(modality)]

    def feature_dim(self, node_type: str, modality: str) -> int:
        return int(self.x(node_type, modality).shape[1])

    def has_modality(self, node_type: str, modality: str) -> bool:
        """False for structural missingness: no node of this type has the modality."""
        return self.feature_dim(node_type, modality) > 0 and bool(self.present(node_type, modality).any())

    def split(self, name: str) -> Split:
        if name not in self.splits:
            raise KeyError(f"unknown split {name!r} for dataset {self.name!r}; valid: {', '.join(self.splits)}")
        return self.splits[name]

    @property
    def edge_index_dict(self) -> dict[EdgeType, Tensor]:
        return self.graph.edge_index_dict

    def with_features(self, node_type: str, modality: str, x: Tensor, present: Tensor) -> MMHN:
        """A copy with one (node type, modality) replaced; the rest is shared, not copied."""
        graph = _shallow_copy(self.graph)
        graph[node_type][feature_key(modality)] = x
        graph[node_type][presence_key(modality)] = present
        return replace(self, graph=graph)

    def to(self, device: torch.device | str) -> MMHN:
        return replace(
            self,
            graph=self.graph.to(device),
            labels=self.labels.to(device),
            splits={k: s.to(device) for k, s in self.splits.items()},
        )

    def fingerprint(self) -> str:
        """A content hash of structure, features, masks, labels and splits."""
        digest = hashlib.sha256()
        digest.update(repr((self.name, self.modalities, self.target, self.class_names, self.metapaths)).encode())
        for node_type in sorted(self.node_types):
            digest.update(node_type.encode())
            for modality in self.modalities:
                digest.update(self.x(node_type, modality).detach().cpu().numpy().tobytes())
                digest.update(self.present(node_type, modality).detach().cpu().numpy().tobytes())
        for edge_type in sorted(self.edge_types):
            digest.update(repr(edge_type).encode())
            digest.update(self.graph[edge_type].edge_index.detach().cpu().numpy().tobytes())
        digest.update(self.labels.detach().cpu().numpy().tobytes())
        for name in sorted(self.splits):
            digest.update(f"{name}:{self.splits[name].checksum}".encode())
        return digest.hexdigest()[:16]

    # -- checking ----------------------------------------------------------------------
    def validate(self) -> MMHN:
        """Check the data contract; raise :class:`MMHNValidationError` naming the field."""
        _validate(self)
        return self


def _shallow_copy(graph: HeteroData) -> HeteroData:
    copy = HeteroData()
    for node_type in graph.node_types:
        for key, value in graph[node_type].items():
            copy[node_type][key] = value
    for edge_type in graph.edge_types:
        for key, value in graph[edge_type].items():
            copy[edge_type][key] = value
    return copy


def _fail(field_name: str, message: str) -> None:
    raise MMHNValidationError(f"{field_name}: {message}")


def _validate(mmhn: MMHN) -> None:
    graph = mmhn.graph
    if not mmhn.modalities:
        _fail("modalities", "at least one modality is required")
    if len(set(mmhn.modalities)) != len(mmhn.modalities):
        _fail("modalities", f"duplicate names in {mmhn.modalities}")
    if mmhn.target not in graph.node_types:
        _fail("target", f"{mmhn.target!r} is not a node type; node types: {graph.node_types}")

    for node_type in graph.node_types:
        num_nodes = graph[node_type].num_nodes
        if num_nodes is None or num_nodes <= 0:
            _fail(f"{node_type}.num_nodes", "must be a positive integer")
        for modality in mmhn.modalities:
            _validate_features(graph, node_type, modality, int(num_nodes))

    for edge_type in graph.edge_types:
        _validate_edges(graph, edge_type)
    _validate_reverses(graph)

    for path in mmhn.metapaths:
        name = f"metapaths[{'-'.join(e[1] for e in path)}]"
        if not path:
            _fail(name, "empty metapath")
        for edge_type in path:
            if edge_type not in graph.edge_types:
                _fail(name, f"edge type {edge_type} is not in the graph")
        for first, second in zip(path, path[1:]):
            if first[2] != second[0]:
                _fail(name, f"{first} does not connect to {second}")
        if path[-1][2] != mmhn.target:
            _fail(name, f"must end at the target type {mmhn.target!r}")

    _validate_labels_and_splits(mmhn)


def _validate_features(graph: HeteroData, node_type: str, modality: str, num_nodes: int) -> None:
    store = graph[node_type]
    x_name, p_name = f"{node_type}.{feature_key(modality)}", f"{node_type}.{presence_key(modality)}"
    if feature_key(modality) not in store:
        _fail(x_name, "missing (every node type needs every modality; use a zero-width matrix and an all-false mask if absent)")
    if presence_key(modality) not in store:
        _fail(p_name, "missing")
    x, present = store[feature_key(modality)], store[presence_key(modality)]
    if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[0] != num_nodes:
        _fail(x_name, f"expected a [{num_nodes}, d] tensor, got shape {tuple(getattr(x, 'shape', ()))}")
    if not x.is_floating_point():
        _fail(x_name, f"expected a float tensor, got {x.dtype}")
    if not bool(torch.isfinite(x).all()):
        bad = int((~torch.isfinite(x)).any(dim=1).nonzero()[0])
        _fail(x_name, f"NaN or inf values (first in row {bad})")
    if not isinstance(present, Tensor) or present.dtype != torch.bool or tuple(present.shape) != (num_nodes,):
        _fail(p_name, f"expected a bool tensor of shape [{num_nodes}], got {getattr(present, 'dtype', None)} {tuple(getattr(present, 'shape', ()))}")
    if x.shape[1] == 0 and bool(present.any()):
        _fail(p_name, "marks nodes present but the feature matrix has zero width")
    if x.shape[1] > 0 and bool((x[~present] != 0).any()):
        bad = int(((x != 0).any(dim=1) & ~present).nonzero()[0])
        _fail(p_name, f"does not match its features: row {bad} is marked absent but has non-zero features")


def _validate_edges(graph: HeteroData, edge_type: EdgeType) -> None:
    src, _, dst = edge_type
    name = f"{'__'.join(edge_type)}.edge_index"
    for end in (src, dst):
        if end not in graph.node_types:
            _fail(name, f"node type {end!r} does not exist")
    edge_index = graph[edge_type].edge_index
    if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 or edge_index.shape[0] != 2:
        _fail(name, f"expected a [2, E] tensor, got shape {tuple(getattr(edge_index, 'shape', ()))}")
    if edge_index.dtype != torch.long:
        _fail(name, f"expected int64, got {edge_index.dtype}")
    for row, end in ((0, src), (1, dst)):
        n = graph[end].num_nodes
        if edge_index.numel() and (int(edge_index[row].min()) < 0 or int(edge_index[row].max()) >= n):
            bad = int(((edge_index[row] < 0) | (edge_index[row] >= n)).nonzero()[0])
            _fail(name, f"edge {bad} points to {end} node {int(edge_index[row, bad])}, but {end} has {n} nodes")


def _edge_codes(edge_index: Tensor, num_dst: int, flip: bool = False) -> np.ndarray:
    src, dst = (edge_index[1], edge_index[0]) if flip else (edge_index[0], edge_index[1])
    return np.unique((src.cpu().numpy().astype(np.int64) * num_dst) + dst.cpu().numpy().astype(np.int64))


def _validate_reverses(graph: HeteroData) -> None:
    for edge_type in graph.edge_types:
        src, _, dst = edge_type
        codes = _edge_codes(graph[edge_type].edge_index, graph[dst].num_nodes)
        found = False
        for candidate in graph.edge_types:
            if candidate[0] == dst and candidate[2] == src and (candidate != edge_type or src == dst):
                flipped = _edge_codes(graph[candidate].edge_index, graph[dst].num_nodes, flip=True)
                if np.array_equal(codes, flipped):
                    found = True
                    break
        if not found:
            _fail("__".join(edge_type), f"relation has no reverse (expected an edge type ({dst!r}, *, {src!r}) with the same edges reversed)")


def _validate_labels_and_splits(mmhn: MMHN) -> None:
    n_target = mmhn.num_nodes(mmhn.target)
    labels = mmhn.labels
    if not isinstance(labels, Tensor) or labels.dtype != torch.long or tuple(labels.shape) != (n_target,):
        _fail("labels", f"expected an int64 tensor of shape [{n_target}], got {getattr(labels, 'dtype', None)} {tuple(getattr(labels, 'shape', ()))}")
    if mmhn.num_classes < 2:
        _fail("class_names", "at least two classes are required")
    if labels.numel() and (int(labels.min()) < -1 or int(labels.max()) >= mmhn.num_classes):
        bad = int(((labels < -1) | (labels >= mmhn.num_classes)).nonzero()[0])
        _fail("labels", f"label {int(labels[bad])} of node {bad} is out of range [0, {mmhn.num_classes}) (-1 = unlabelled)")
    if not mmhn.splits:
        _fail("splits", "at least one named split is required")
    for name, split in mmhn.splits.items():
        parts = {"train": split.train, "val": split.val, "test": split.test}
        for part, index in parts.items():
            field_name = f"splits[{name}].{part}"
            if index.dtype != torch.long or index.dim() != 1 or index.numel() == 0:
                _fail(field_name, "expected a non-empty 1-d int64 tensor")
            if int(index.min()) < 0 or int(index.max()) >= n_target:
                _fail(field_name, f"index out of range [0, {n_target})")
            if index.unique().numel() != index.numel():
                _fail(field_name, "repeated indices")
            if bool((labels[index] < 0).any()):
                _fail(field_name, "contains unlabelled nodes (label -1)")
        for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
            overlap = np.intersect1d(parts[a].cpu().numpy(), parts[b].cpu().numpy())
            if overlap.size:
                _fail(f"splits[{name}]", f"{a} and {b} overlap ({overlap.size} nodes, e.g. node {int(overlap[0])})")
