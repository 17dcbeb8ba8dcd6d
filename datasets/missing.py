"""The missing-modality transform: drop one modality from chosen nodes before a method sees them.

Where it sits: adapter -> MMHN (validated) -> **this transform** -> method. A dropped entry
has its features zeroed and its presence flag cleared, so no method can read the hidden
value, whatever it does with the flags.

A :class:`MissingSetting` names a mechanism, a modality, a rate and a setting:

* ``mcar``: every node that can lose the modality loses it independently with probability r.
* ``degree``: within each node type, the ``floor(r * n + 1/2)`` eligible nodes of lowest degree
  (sum over the type's relations) lose it; ties are broken at random. Not at random: sparse
  nodes, which the graph helps least, lose their features first. Where most eligible nodes
  share one degree the cut falls inside that tie and the random tie-break, not the degree,
  picks most of the dropped nodes: the mechanism is then close to ``mcar``, and
  :func:`dropped_masks` warns (:func:`cut_tie`). IMDB's movies are such a case:
  4,274 of 4,278 have one director and three actors.
* ``two_hop``: as ``degree``, ordered instead by the count of distinct other nodes of the type
  one relation away and back (:func:`datasets.node_order.two_hop`; for IMDB's movies, the
  movies sharing a director or an actor: 0 to 118, median 16). The nodes the graph connects
  least, whose neighbours can least stand in for the lost modality, lose it first; ties at
  random (on IMDB the draw picks 32 of the 1,761 posters dropped at r = 0.5, seed 0).
* ``structural``: the unit is a whole node type, which loses the modality with probability r
  (as in the HGNN-IMA datasets, where auxiliary types have no image).
* ``natural``: the dataset's own missingness (e.g. IMDB's class-skewed posters), nothing is
  dropped; every other mechanism acts on top of it, so the rate-0 point of every curve is
  the natural one.

A node is *eligible* to lose modality m if it has m and at least one other modality present
(absence counted whatever its cause: natural, structural or dropped): a node never loses all
of its modalities, and r is the dropped fraction of the eligible nodes.

Masks are a pure function of (dataset key, seed, mechanism, modality, rate): every method
sees the same masks, so comparisons between methods are paired. One uniform draw per node
(per type for ``structural``) is thresholded at r, so the masks are nested across rates (a
node dropped at r = 0.3 is dropped at r = 0.5 too) and a curve differs between rates only by
the extra drops, not by a fresh draw. The draw ignores the setting, so ``train_test`` and
``test_only`` see the same masks as well.

Settings: ``train_test`` drops the modality everywhere, for training, validation and test.
``test_only`` trains *and selects* on the complete graph (validation is part of model
development, so it is treated like training) and drops the modality only for the single
test evaluation, over the whole graph (train and validation nodes included, as a deployed
model would see it); the test split is read from that forward pass only.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from datasets import node_order
from datasets.mmhn import MMHN

MECHANISMS = ("none", "mcar", "degree", "two_hop", "structural", "natural")
ORDERED = {"degree": node_order.degree, "two_hop": node_order.two_hop}  # mechanism -> its score, lowest dropped first
SETTINGS = ("train_test", "test_only")


@dataclass(frozen=True)
class MissingSetting:
    """Which modality goes missing, how, how much, and in which phases; the default: none."""

    mechanism: str = "none"
    modality: str = ""
    rate: float = 0.0
    setting: str = "train_test"

    def __post_init__(self) -> None:
        if self.mechanism not in MECHANISMS:
            raise ValueError(f"missing mechanism {self.mechanism!r}; valid: {', '.join(MECHANISMS)}")
        if self.setting not in SETTINGS:
            raise ValueError(f"missing setting {self.setting!r}; valid: {', '.join(SETTINGS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"missing rate {self.rate!r} is outside [0, 1]")
        if self.mechanism in ("none", "natural"):
            if self.modality or self.rate or self.setting != "train_test":
                raise ValueError(f"missing mechanism {self.mechanism!r} drops nothing: it takes no modality, rate or setting")
        elif not self.modality:
            raise ValueError(f"missing mechanism {self.mechanism!r} needs a modality")

    @property
    def active(self) -> bool:
        """False for the default (no missing-modality transform at all)."""
        return self.mechanism != "none"

    @property
    def only_at_test(self) -> bool:
        """True for ``test_only``: training and selection see the complete graph."""
        return self.setting == "test_only"  # only a dropping mechanism takes this setting

    def label(self) -> str:
        if self.mechanism in ("none", "natural"):
            return self.mechanism
        return f"{self.mechanism} {self.modality} r={self.rate:g} {self.setting}"


@dataclass(frozen=True)
class MissingViews:
    """The graph a run trains and selects on, and the graph its test split is read from."""

    train: MMHN
    test: MMHN
    mask_checksum: str  # "" when nothing is transformed
    target_missing: dict[str, float]  # per modality: the fraction of target nodes lacking it in ``test``


def dataset_key(name: str, options: dict) -> str:
    """What identifies a dataset for the masks: its name and non-default options."""
    return json.dumps([name, options], sort_keys=True)


def dropped_masks(mmhn: MMHN, missing: MissingSetting, seed: int, key: str) -> dict[str, Tensor]:
    """Per node type, the bool mask of nodes that lose ``missing.modality`` (empty if none).

    ``key`` identifies the dataset (:func:`dataset_key`), so two datasets draw differently.
    """
    if missing.mechanism in ("none", "natural"):
        return {}
    if missing.modality not in mmhn.modalities:
        raise ValueError(f"missing modality {missing.modality!r} is not a modality of {mmhn.name!r}; valid: {', '.join(mmhn.modalities)}")
    masks = {}
    for node_type in mmhn.node_types:
        eligible = _eligible(mmhn, node_type, missing.modality)
        draw = _uniform(key, seed, missing, node_type, mmhn.num_nodes(node_type))
        if missing.mechanism == "mcar":
            dropped = eligible & (draw < missing.rate)
        elif missing.mechanism == "structural":
            dropped = eligible & bool(draw[0] < missing.rate)  # one draw decides for the whole type
        elif eligible.any():  # the score can cost a sparse product: only where something can drop
            score = ORDERED[missing.mechanism](mmhn, node_type)
            dropped = _lowest_first(eligible, score, draw, missing.rate)
            _warn_if_mostly_ties(mmhn.name, missing, node_type, int(eligible.sum()), cut_tie(eligible, score, dropped))
        else:
            dropped = eligible
        masks[node_type] = torch.from_numpy(dropped)
    return masks


def apply_masks(mmhn: MMHN, modality: str, masks: dict[str, Tensor]) -> MMHN:
    """A copy in which every masked node has ``modality`` zeroed and flagged absent."""
    out = mmhn
    for node_type, dropped in masks.items():
        if not bool(dropped.any()):
            continue
        dropped = dropped.to(mmhn.present(node_type, modality).device)
        x = mmhn.x(node_type, modality).masked_fill(dropped.unsqueeze(1), 0.0)
        out = out.with_features(node_type, modality, x, mmhn.present(node_type, modality) & ~dropped)
    return out


def mask_checksum(missing: MissingSetting, masks: dict[str, Tensor]) -> str:
    """A short hash of the dropped entries (node type, modality, which nodes)."""
    digest = hashlib.sha256(missing.modality.encode())
    for node_type in sorted(masks):
        digest.update(node_type.encode())
        digest.update(np.packbits(masks[node_type].cpu().numpy()).tobytes())
        digest.update(int(masks[node_type].numel()).to_bytes(8, "little"))
    return digest.hexdigest()[:16]


def missing_views(mmhn: MMHN, missing: MissingSetting, seed: int, key: str) -> MissingViews:
    """The training and test graphs of a run under ``missing`` (both ``mmhn`` for none)."""
    if not missing.active:
        return MissingViews(train=mmhn, test=mmhn, mask_checksum="", target_missing=target_missing(mmhn))
    masks = dropped_masks(mmhn, missing, seed, key)
    dropped = apply_masks(mmhn, missing.modality, masks)
    train = mmhn if missing.only_at_test else dropped
    return MissingViews(train=train, test=dropped, mask_checksum=mask_checksum(missing, masks), target_missing=target_missing(dropped))


def target_missing(mmhn: MMHN) -> dict[str, float]:
    """Per modality, the fraction of target nodes that lack it (for whatever reason)."""
    return {m: float((~mmhn.present(mmhn.target, m)).float().mean()) for m in mmhn.modalities}


def _eligible(mmhn: MMHN, node_type: str, modality: str) -> np.ndarray:
    others = [mmhn.present(node_type, m) for m in mmhn.modalities if m != modality]
    has_other = torch.stack(others).any(dim=0) if others else torch.zeros_like(mmhn.present(node_type, modality))
    return (mmhn.present(node_type, modality) & has_other).cpu().numpy()


def _uniform(key: str, seed: int, missing: MissingSetting, node_type: str, n: int) -> np.ndarray:
    """One U(0, 1) draw per node; the rate and the setting are deliberately not in the key."""
    text = f"{key}|{seed}|{missing.mechanism}|{missing.modality}|{node_type}"
    entropy = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(entropy).random(n)


@dataclass(frozen=True)
class CutTie:
    """Where an ordered mask's cut fell, and how many of its drops the random tie-break chose."""

    score: int  # the cut: the highest dropped score (degree, two-hop count)
    tied: int  # eligible nodes of that score
    drawn: int  # dropped nodes the draw chose among them (0 when every tied node is dropped)
    dropped: int

    @property
    def share(self) -> float:
        """0: the score decided alone; near 1: the mechanism is ``mcar`` among the tied nodes."""
        return self.drawn / self.dropped if self.dropped else 0.0


def cut_tie(eligible: np.ndarray, score: np.ndarray, dropped: np.ndarray) -> CutTie:
    """How the tie at the cut decided an ordered (``degree``, ``two_hop``) mask.

    Every eligible node scoring below the cut is dropped on its score. At the cut's score, if
    only some of the tied nodes are dropped, the draw chose those; if all of them are,
    nothing was left to chance.
    """
    n_dropped = int(dropped.sum())
    if n_dropped == 0:
        return CutTie(score=0, tied=0, drawn=0, dropped=0)
    cut = int(score[dropped].max())
    tied = eligible & (score == cut)
    at_cut, n_tied = int((dropped & tied).sum()), int(tied.sum())
    return CutTie(score=cut, tied=n_tied, drawn=0 if at_cut == n_tied else at_cut, dropped=n_dropped)


def _warn_if_mostly_ties(dataset: str, missing: MissingSetting, node_type: str, n_eligible: int, tie: CutTie) -> None:
    if tie.share > 0.5:
        warnings.warn(
            f"missing mechanism {missing.mechanism!r} on {dataset!r}, node type {node_type!r}, r={missing.rate:g}: "
            f"{tie.drawn} of the {tie.dropped} dropped nodes were drawn at random among the "
            f"{tie.tied} of {n_eligible} eligible nodes that share {missing.mechanism} {tie.score}, so this curve is close to mcar",
            stacklevel=3,
        )


def _lowest_first(eligible: np.ndarray, score: np.ndarray, draw: np.ndarray, rate: float) -> np.ndarray:
    candidates = np.flatnonzero(eligible)
    order = candidates[np.lexsort((draw[candidates], score[candidates]))]  # score first, then the draw
    dropped = np.zeros(len(eligible), dtype=bool)
    dropped[order[: int(np.floor(rate * len(candidates) + 0.5))]] = True  # round half up
    return dropped
