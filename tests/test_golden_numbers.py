"""Golden numbers: every method's numbers on a tiny seeded graph are stored, and a change that
moves them without bumping a version fails here."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from benchmark.golden_numbers import GOLDEN_FILE, load_golden, measure, problems, save_golden, update
from methods.method import METHODS, register_method
from methods.mlp import MLP, MLPConfig, MLPModel

STORED = load_golden()


@pytest.mark.parametrize("method", METHODS.names())
def test_the_stored_golden_numbers_hold_for_this_code(method: str) -> None:
    found = problems(method, STORED.get(method), measure(method))
    assert not found, "\n".join(found)


def test_the_golden_file_names_no_method_that_is_not_registered() -> None:
    assert set(STORED) <= set(METHODS.names()), f"remove them with the update command: {sorted(set(STORED) - set(METHODS.names()))}"


class _ScaledMLP(MLPModel):
    """The MLP with its logits multiplied by a class-level factor: the "change" under test."""

    factor = 1.0

    def forward(self, mmhn):  # type: ignore[no-untyped-def]
        out = super().forward(mmhn)
        return dataclasses.replace(out, logits=out.logits * type(self).factor)


@pytest.fixture
def throwaway_method():
    @register_method("golden_throwaway")
    class Throwaway(MLP):
        summary = "test-only: an MLP whose numbers the test changes"
        version = 1

        @classmethod
        def build(cls, mmhn, config: MLPConfig, cache_dir: Path) -> MLPModel:  # type: ignore[override]
            in_dim = sum(mmhn.feature_dim(mmhn.target, m) for m in mmhn.modalities)
            return _ScaledMLP(in_dim, config.hidden, mmhn.num_classes, config.layers, config.dropout)

    _ScaledMLP.factor = 1.0
    yield Throwaway
    METHODS.unregister("golden_throwaway")


def test_a_change_that_moves_a_methods_numbers_without_a_version_bump_fails(throwaway_method, tmp_path: Path) -> None:
    golden = tmp_path / "golden.json"
    save_golden(update({}, {"golden_throwaway": measure("golden_throwaway")}).written, golden)
    stored = load_golden(golden)["golden_throwaway"]
    assert problems("golden_throwaway", stored, measure("golden_throwaway")) == []  # deterministic: the same numbers again

    _ScaledMLP.factor = 1.5  # the method's code changes its numbers; nothing is bumped
    changed = measure("golden_throwaway")
    [problem] = problems("golden_throwaway", stored, changed)
    assert "numbers moved without a version bump" in problem and "losses" in problem and "logits checksum" in problem
    refused = update({"golden_throwaway": stored}, {"golden_throwaway": changed})
    assert refused.refused == ["golden_throwaway"] and refused.written["golden_throwaway"] == stored  # the update will not hide it

    throwaway_method.version = 2  # bumped: the stored numbers are now those of an older version
    bumped = measure("golden_throwaway")
    [problem] = problems("golden_throwaway", stored, bumped)
    assert "run `python -m benchmark.scripts.golden_numbers --update`" in problem
    accepted = update({"golden_throwaway": stored}, {"golden_throwaway": bumped})
    assert accepted.refused == [] and accepted.report[0].startswith("golden_throwaway: moved, versions")
    assert problems("golden_throwaway", accepted.written["golden_throwaway"], measure("golden_throwaway")) == []


def test_a_refactor_that_keeps_the_numbers_needs_no_bump(throwaway_method) -> None:
    stored = measure("golden_throwaway")
    _ScaledMLP.factor = 1.0 + 1e-7  # far below the stated tolerance, like another summation order
    assert problems("golden_throwaway", stored, measure("golden_throwaway")) == []


def test_a_method_without_a_version_cannot_be_registered() -> None:
    class NoVersion(MLP):
        pass

    unversioned = type("Unversioned", (NoVersion,), {"version": None})
    with pytest.raises(TypeError, match="'unversioned' declares no version: add `version = 1`"):
        register_method("unversioned")(unversioned)
    assert "unversioned" not in METHODS
