"""The optional ``features`` packages: a clear error when they are needed and absent."""

from __future__ import annotations

import os
from importlib import metadata
from typing import Any, ClassVar


class FeatureExtrasMissingError(ImportError):
    """Encoding needs the optional ``features`` packages, and they are not installed."""


def require_packages(pinned: dict[str, str], purpose: str) -> None:
    """Check that each package is installed at the pinned version (the weights define the features).

    Raises :class:`FeatureExtrasMissingError` naming what to install. Also makes Hugging Face
    libraries stay offline: the weights ship inside the packages, nothing is downloaded.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    problems = []
    for package, version in pinned.items():
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            problems.append(f"{package} is not installed")
            continue
        if installed != version:
            problems.append(f"{package} {installed} is installed, {version} expected")
    if problems:
        wanted = " ".join(f"{p}=={v}" for p, v in pinned.items())
        raise FeatureExtrasMissingError(
            f"{purpose} needs the optional 'features' packages ({'; '.join(problems)}): "
            f"pip install {wanted} (or: pip install -e '.[features]'); a cache dir that already holds these features also works"
        )


class LazyModel:
    """A model built on first use, after checking its pinned packages: a load that finds every
    feature in the cache never imports the model's libraries."""

    pinned: ClassVar[dict[str, str]]
    purpose: ClassVar[str]

    def __init__(self) -> None:
        self._model: Any = None

    def model(self) -> Any:
        if self._model is None:
            require_packages(self.pinned, self.purpose)
            self._model = self.build()
        return self._model

    def build(self) -> Any:
        raise NotImplementedError
