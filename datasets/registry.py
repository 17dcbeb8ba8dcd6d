"""Name -> class registries (methods, datasets), filled by decorators at import time.

Adding a method or a dataset is one new module with a decorator; :func:`discover` imports
every module of a package so the decorator runs, and the tests pick the new entry up.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class UnknownNameError(KeyError):
    """A name that is not registered; the message lists the valid choices."""

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0])


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(entry: T) -> T:
            if name in self._entries and self._entries[name] is not entry:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = entry
            setattr(entry, "name", name)
            return entry

        return decorator

    def unregister(self, name: str) -> None:
        """Remove an entry (a plug-in loaded for one job, a test's throw-away method)."""
        self.get(name)  # an unknown name is an error, with the valid choices
        del self._entries[name]

    def get(self, name: str) -> T:
        if name not in self._entries:
            raise UnknownNameError(f"unknown {self.kind} {name!r}; valid: {', '.join(self.names())}")
        return self._entries[name]

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries


def discover(package_name: str) -> None:
    """Import every module of a package (not its subpackages' private modules)."""
    package = importlib.import_module(package_name)
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package_name}.{module.name}")
