"""The method contract and the method registry.

A method is a class registered with ``@register_method("name")`` in its own module of this
package. It declares

* ``Config``: a frozen dataclass of hyperparameters whose defaults come from the method's
  paper or reference code (cited in the class docstring), including the optimiser settings
  shared by every method (:class:`MethodConfig`);
* ``search_space(trial)``: the Optuna search space, a dict of overrides of ``Config``;
* ``build(mmhn, config, cache_dir)``: the model, after any cached preprocessing (e.g. metapath
  instances). The model's ``forward(mmhn)`` returns a :class:`MethodOutput`;
* ``version``: an integer, bumped by every change that moves the method's numbers (its
  records then become stale; see :mod:`benchmark.number_versions` and the golden numbers).
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

from torch import Tensor, nn

from datasets.mmhn import MMHN
from datasets.registry import Registry
from datasets.typed_options import options_from

if TYPE_CHECKING:  # optuna is only needed when tuning
    import optuna


@dataclass(frozen=True)
class MethodConfig:
    """Optimiser settings every method has; subclasses add their own hyperparameters."""

    lr: float = 1e-3
    weight_decay: float = 5e-4
    scheduler: str = "none"  # "none" | "one_cycle" (per-epoch steps over the protocol's max epochs)

    def __post_init__(self) -> None:
        if self.scheduler not in ("none", "one_cycle"):
            raise ValueError(f"scheduler={self.scheduler!r}; valid: none, one_cycle")


@dataclass
class AuxiliaryLogits:
    """Extra logits the harness trains with cross-entropy on the *train* labels (e.g. one
    classifier head per modality). The model never sees labels: it returns these, and the
    harness adds ``weight * CE(logits[train & mask], labels[train & mask])`` to the loss."""

    logits: Tensor  # [num target nodes, num classes]
    weight: float
    mask: Tensor | None = None  # [num target nodes] bool: rows that count (None: all)


@dataclass
class MethodOutput:
    """What a model returns for one full-batch forward pass."""

    logits: Tensor  # [num target nodes, num classes]
    aux_loss: Tensor | None = None  # added to the cross-entropy as is (already weighted)
    diagnostics: dict[str, Tensor] = field(default_factory=dict)  # e.g. attention weights
    aux_logits: list[AuxiliaryLogits] = field(default_factory=list)  # trained only, never used to predict


class MethodModel(nn.Module, ABC):
    @abstractmethod
    def forward(self, mmhn: MMHN) -> MethodOutput: ...


class Method(ABC):
    name: ClassVar[str]
    summary: ClassVar[str]
    version: ClassVar[int]  # no default: every method declares it (register_method checks)
    Config: ClassVar[type[MethodConfig]] = MethodConfig

    @classmethod
    def config(cls, overrides: Mapping[str, Any] | None = None) -> MethodConfig:
        return options_from(cls.Config, dict(overrides or {}), f"method {cls.name!r}")

    @classmethod
    def resolved_config(cls, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return dataclasses.asdict(cls.config(overrides))

    @staticmethod
    @abstractmethod
    def search_space(trial: "optuna.Trial") -> dict[str, Any]:
        """Overrides of ``Config`` drawn from the trial (defaults stay for the rest)."""

    @classmethod
    @abstractmethod
    def build(cls, mmhn: MMHN, config: Any, cache_dir: Path) -> MethodModel:
        """A freshly initialised model for this graph (seeded by the caller)."""


METHODS: Registry[type[Method]] = Registry("method")


def register_method(name: str) -> Callable[[type[Method]], type[Method]]:
    """Register a method class under ``name``; it must declare (or inherit) a ``version``."""

    def decorator(cls: type[Method]) -> type[Method]:
        version = getattr(cls, "version", None)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise TypeError(f"method {name!r} declares no version: add `version = 1` to {cls.__name__} (a positive integer, "
                            f"bumped whenever its numbers change); found {version!r}")
        return METHODS.register(name)(cls)

    return decorator
