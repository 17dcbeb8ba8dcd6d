"""Paths written into a results folder, made relative to that folder.

The manifest and the tuned files travel with the results (a repository, an archive): an
absolute path in them names a folder of the machine that made them and nothing on the
reader's. Every absolute path they would store is written as seen from the results folder
instead (``.`` for the folder itself); relative paths, flags and URLs stay as they are.
"""

from __future__ import annotations

import os
from pathlib import Path

SQLITE_PREFIX = "sqlite:///"


def relative_to_folder(text: str, folder: Path) -> str:
    """``text`` as seen from ``folder`` when it is an absolute path; unchanged otherwise."""
    if not os.path.isabs(text):
        return text
    # both sides with links resolved: the tuning storage's path is resolved, a typed --out may not be
    return os.path.relpath(os.path.realpath(text), os.path.realpath(folder))


def portable_command(command: list[str], folder: Path) -> list[str]:
    """A command line with every absolute path argument (``/x`` or ``--flag=/x``) relative to ``folder``."""
    out = []
    for arg in command:
        flag, eq, value = arg.partition("=")
        if eq and flag.startswith("-"):
            out.append(f"{flag}={relative_to_folder(value, folder)}")
        else:
            out.append(relative_to_folder(arg, folder))
    return out


def portable_storage(location: str, folder: Path) -> str:
    """A tuning storage as shown (journal file path or URL): a local file's path relative to ``folder``."""
    if location.startswith(SQLITE_PREFIX):
        return SQLITE_PREFIX + relative_to_folder(location[len(SQLITE_PREFIX):], folder)
    return relative_to_folder(location, folder)
