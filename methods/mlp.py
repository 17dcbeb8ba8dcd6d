"""The floor: a graph-free MLP on the target's concatenated modality features."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from datasets.mmhn import MMHN
from methods.method import Method, MethodConfig, MethodModel, MethodOutput, register_method


@dataclass(frozen=True)
class MLPConfig(MethodConfig):
    hidden: int = 128
    layers: int = 2
    dropout: float = 0.5
    lr: float = 5e-3
    weight_decay: float = 5e-4


class MLPModel(MethodModel):
    r"""``logits_v = MLP([x^{m_1}_v \| x^{m_2}_v \| ...])`` over the target node type only.

    Missing modalities enter as their zero rows (the data contract), with no flag: the
    model cannot tell a missing modality from an all-zero one. With ``missing_flags`` the
    presence flags are appended, ``[x^{m_1}_v \| \dots \| p^{m_1}_v \| \dots]``.
    """

    def __init__(self, in_dim: int, hidden: int, num_classes: int, layers: int, dropout: float, missing_flags: bool = False) -> None:
        super().__init__()
        self.missing_flags = missing_flags
        widths = [in_dim] + [hidden] * (layers - 1) + [num_classes]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))
        self.dropout = nn.Dropout(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for linear in self.linears:
            linear.reset_parameters()

    def forward(self, mmhn: MMHN) -> MethodOutput:
        h: Tensor = torch.cat([mmhn.x(mmhn.target, m) for m in mmhn.modalities], dim=1)
        if self.missing_flags:
            h = torch.cat([h, torch.stack([mmhn.present(mmhn.target, m) for m in mmhn.modalities], dim=1).to(h.dtype)], dim=1)
        for i, linear in enumerate(self.linears):
            h = linear(self.dropout(h))
            if i < len(self.linears) - 1:
                h = torch.relu(h)
        return MethodOutput(logits=h)


@register_method("mlp")
class MLP(Method):
    """Multi-layer perceptron on concatenated target features; no graph (the floor).

    Follows the MLP baseline common to heterogeneous-graph benchmarks (e.g. HGB, Lv et al.,
    KDD 2021): ReLU, dropout 0.5, Adam(W). Defaults are conventional, not from one paper.
    """

    summary = "graph-free MLP on concatenated modalities (the floor)"
    version = 1  # bump with any change that moves this method's numbers (benchmark.number_versions)
    Config = MLPConfig

    @staticmethod
    def search_space(trial: Any) -> dict[str, Any]:
        return {
            "hidden": trial.suggest_categorical("hidden", [64, 128, 256]),
            "layers": trial.suggest_int("layers", 1, 3),
            "dropout": trial.suggest_float("dropout", 0.0, 0.7),
            "lr": trial.suggest_float("lr", 1e-4, 1e-2, log=True),
            "weight_decay": trial.suggest_float("weight_decay", 1e-6, 1e-2, log=True),
        }

    @classmethod
    def build(cls, mmhn: MMHN, config: MLPConfig, cache_dir: Path) -> MLPModel:
        in_dim = sum(mmhn.feature_dim(mmhn.target, m) for m in mmhn.modalities)
        return MLPModel(in_dim, config.hidden, mmhn.num_classes, config.layers, config.dropout)


@register_method("mlp_flags")
class MLPWithFlags(MLP):
    """The MLP floor that also sees the target's missingness flags as extra inputs.

    The missing-indicator method (flags appended to the zero-imputed features; e.g. Lipton,
    Kale & Wetzel, MLHC 2016), so a robustness curve can tell what knowing *that* a
    modality is missing is worth. Same configuration and search space as ``mlp``.
    """

    summary = "graph-free MLP on concatenated modalities plus their presence flags"

    @classmethod
    def build(cls, mmhn: MMHN, config: MLPConfig, cache_dir: Path) -> MLPModel:
        in_dim = sum(mmhn.feature_dim(mmhn.target, m) for m in mmhn.modalities) + len(mmhn.modalities)
        return MLPModel(in_dim, config.hidden, mmhn.num_classes, config.layers, config.dropout, missing_flags=True)
