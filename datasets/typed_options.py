"""Dataclass options built from plain overrides, with errors that list the valid keys.

Run specs store options as plain JSON values (so they can be written down and hashed);
methods and dataset adapters read them as typed dataclasses.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, TypeVar

C = TypeVar("C")


def options_from(cls: type[C], overrides: Mapping[str, Any], owner: str) -> C:
    """``cls(**overrides)``, rejecting unknown keys and values of the wrong kind by name."""
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ValueError(f"{owner}: unknown option(s) {', '.join(unknown)}; valid: {', '.join(fields)}")
    values = dict(overrides)
    for key, value in overrides.items():
        default = fields[key].default
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ValueError(f"{owner}: option {key}={value!r} must be true or false")
        if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
            values[key] = float(value)  # JSON and Optuna may hand back 1 for 1.0
        elif isinstance(default, (int, float, str)) and not isinstance(default, bool) and not isinstance(value, type(default)):
            raise ValueError(f"{owner}: option {key}={value!r} must be a {type(default).__name__}")
    return cls(**values)
