"""Late fusion: one HGT per modality, fused only at the target's output."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from datasets.mmhn import MMHN
from methods.early_fusion_hgt import EarlyFusionHGT, EarlyFusionHGTConfig
from methods.layers import HGTEncoder, ModalityAttentionReadout, presence_softmax
from methods.method import Method, MethodModel, MethodOutput, register_method

FUSIONS = ("logits_mean", "weighted_logits", "attention")


@dataclass(frozen=True)
class LateFusionHGTConfig(EarlyFusionHGTConfig):
    fusion: str = "attention"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.fusion not in FUSIONS:
            raise ValueError(f"fusion={self.fusion!r}; valid: {', '.join(FUSIONS)}")


class LateFusionHGTModel(MethodModel):
    r"""One early-fusion HGT branch per modality, each reading only its modality, fused at the end.

    Branch :math:`m` is ``early_fusion_hgt``'s encoder restricted to modality :math:`m`
    (:class:`~methods.layers.HGTEncoder`); :math:`z^m_v` is its output at target node
    :math:`v` and :math:`p^m_v` the node's presence flag. With :math:`P_v = \{m : p^m_v = 1\}`:

    .. math::
        \texttt{logits\_mean:}\quad \mathrm{logits}_v = \frac{1}{|P_v|} \sum_{m \in P_v} W^{cls}_m z^m_v

        \texttt{weighted\_logits:}\quad \mathrm{logits}_v = \sum_{m \in P_v}
            \frac{\exp \omega_m}{\sum_{m' \in P_v} \exp \omega_{m'}} \, W^{cls}_m z^m_v

        \texttt{attention:}\quad \mathrm{logits}_v = W^{cls} \sum_{m} \gamma^m_v z^m_v, \quad
            \gamma = \mathrm{ModalityAttentionReadout}(z, p) \text{ (zero for } m \notin P_v)

    (:math:`\omega` is one learned scalar per modality.) A node with no modality gets zero
    logits (``attention``: the classifier's bias).

    What a branch sees. Inside branch :math:`m` every node lacking :math:`m` enters as the
    zero projection, which the first linear turns into a learned constant per node type:
    such nodes carry no information of their own but still relay messages. So where a whole
    node type lacks :math:`m` (``creator`` and ``keyword`` have no image in ``synthetic``),
    the :math:`m`-branch at a target node sees its own :math:`m` plus, through those relay
    types, the :math:`m` of targets within ``layers`` hops (with one layer, only its own).
    The fusion keeps a branch only at nodes that have the modality themselves, the readout
    rule of HGNN-IMA here, for all three fusions alike: at a node without an image, the
    image branch's neighbourhood evidence is dropped, and its text branch decides alone. A
    modality the target type lacks structurally (a zero-width matrix) gets no branch, since
    it could never enter the fusion.
    """

    def __init__(self, mmhn: MMHN, config: LateFusionHGTConfig) -> None:
        super().__init__()
        self.target = mmhn.target
        self.fusion = config.fusion
        self.modalities = tuple(m for m in mmhn.modalities if mmhn.feature_dim(mmhn.target, m) > 0)
        if not self.modalities:
            raise ValueError(f"late_fusion_hgt: target type {mmhn.target!r} has no modality with features; nothing to fuse")
        self.branches = nn.ModuleList(
            HGTEncoder(mmhn, config.hidden, config.heads, config.layers, config.dropout, modalities=(m,), missing_flags=config.missing_flags)
            for m in self.modalities
        )
        num_classifiers = 1 if config.fusion == "attention" else len(self.modalities)
        self.classifiers = nn.ModuleList(nn.Linear(config.hidden, mmhn.num_classes) for _ in range(num_classifiers))
        self.readout = ModalityAttentionReadout(config.hidden, config.dropout) if config.fusion == "attention" else None
        self.modality_logit = nn.Parameter(torch.zeros(len(self.modalities))) if config.fusion == "weighted_logits" else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for branch in self.branches:
            branch.reset_parameters()
        for classifier in self.classifiers:
            classifier.reset_parameters()
        if self.readout is not None:
            self.readout.reset_parameters()
        if self.modality_logit is not None:
            nn.init.zeros_(self.modality_logit)  # equal weights at the start

    def forward(self, mmhn: MMHN) -> MethodOutput:
        z = torch.stack([branch(mmhn)[self.target] for branch in self.branches])  # [M, N, d]
        present = torch.stack([mmhn.present(self.target, m) for m in self.modalities])  # [M, N]
        if self.readout is not None:
            fused, weights = self.readout(z, present)
            logits = self.classifiers[0](fused)
        else:
            per_modality = torch.stack([classify(z_m) for classify, z_m in zip(self.classifiers, z)])  # [M, N, C]
            weights = self._logit_weights(present)
            logits = (weights.unsqueeze(-1) * per_modality).sum(dim=0)
        return MethodOutput(logits=logits, diagnostics={"modality_weights": _mean_over_covered_nodes(weights, present)})

    def _logit_weights(self, present: Tensor) -> Tensor:
        """``[M, N]`` weights over the modalities each node has, zero elsewhere."""
        if self.modality_logit is None:
            return presence_softmax(torch.zeros_like(present, dtype=torch.float32), present)
        return presence_softmax(self.modality_logit.unsqueeze(1).expand(present.shape), present)


def _mean_over_covered_nodes(weights: Tensor, present: Tensor) -> Tensor:
    """Mean fusion weight per modality over target nodes that have at least one modality."""
    covered = present.any(dim=0)
    return weights[:, covered].mean(dim=1).detach()


@register_method("late_fusion_hgt")
class LateFusionHGT(Method):
    """Late-fusion HGT: one HGT per modality (each sees only its modality), fused at the output.

    The late-fusion family of the HGNN-IMA paper (Li et al., IJCAI 2025), which HGNN-IMA
    argues against, and of multimodal graph benchmarks (per-modality models, weighted
    averaging of logits). Each branch is ``early_fusion_hgt`` restricted to one modality, at
    the same width, depth and training recipe (defaults inherited from it, so the two
    compare at equal per-branch size: M branches cost about M times one early-fusion HGT).
    ``fusion``: ``attention`` (default; HGNN-IMA's readout over the branch embeddings, so
    late fusion and HGNN-IMA differ only in propagation), ``logits_mean``,
    ``weighted_logits`` (learned global weights). Departures: every fusion excludes the
    modalities a node lacks (published late-fusion baselines average all branches); the
    branches are trained jointly through the fused loss, not separately.
    """

    summary = "one HGT per modality, fused at the output (attention / logit averaging)"
    version = 1  # bump with any change that moves this method's numbers (benchmark.number_versions)
    Config = LateFusionHGTConfig

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        return {**EarlyFusionHGT.search_space(trial), "fusion": trial.suggest_categorical("fusion", list(FUSIONS))}

    @classmethod
    def build(cls, mmhn: MMHN, config: LateFusionHGTConfig, cache_dir: Path) -> LateFusionHGTModel:
        return LateFusionHGTModel(mmhn, config)
