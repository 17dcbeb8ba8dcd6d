"""Named protocol presets: how many seeds, how long to train, how patient to be."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Protocol:
    name: str
    seeds: int  # reported runs use seeds 0 .. seeds-1, never a chosen subset
    max_epochs: int
    patience: int  # stop after this many epochs without a better validation Macro-F1
    description: str


PROTOCOLS: dict[str, Protocol] = {
    "quick": Protocol("quick", seeds=2, max_epochs=50, patience=20, description="smoke run: 2 seeds, up to 50 epochs, patience 20"),
    "standard": Protocol(
        "standard", seeds=10, max_epochs=200, patience=30, description="the reported protocol: 10 seeds, up to 200 epochs, patience 30"
    ),
}

# Tuning seeds are disjoint from every reported seed (reported runs use 0 .. seeds-1).
TUNING_SEED_OFFSET = 10_000
