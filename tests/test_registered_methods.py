"""Every registered method (the registry is iterated, so new methods are picked up) learns on
a small synthetic graph, clearly above chance, and is deterministic on CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from benchmark.run import execute_run
from benchmark.seeding import seed_everything
from benchmark.spec import RunSpec
from datasets.mmhn import MMHN
from methods.method import METHODS

CHANCE = 1 / 3  # three balanced classes, 420 test nodes: chance-level Macro-F1 varies by ~0.025


@pytest.mark.parametrize("method", METHODS.names())
def test_learns_clearly_above_chance(small_mmhn: MMHN, tmp_path: Path, method: str) -> None:
    """With its defaults and the harness. 60 epochs: the HGT models at their one-cycle
    defaults sit on a one-class plateau for their first ~30 epochs on this graph."""
    spec = RunSpec(method=method, dataset="synthetic", split="random_20_10_70", seed=0,
                   hparams=METHODS.get(method).resolved_config(), max_epochs=60, patience=20)
    record = execute_run(spec, small_mmhn, tmp_path)
    assert record.ok, record.error
    assert record.metrics.test_macro_f1 > CHANCE + 0.08  # type: ignore[union-attr]


def train_steps(method: str, mmhn: MMHN, cache_dir: Path, steps: int = 3) -> torch.Tensor:
    """What the harness does for a few epochs; returns the logits after the last step."""
    seed_everything(0)
    entry = METHODS.get(method)
    config = entry.config()
    model = entry.build(mmhn, config, cache_dir)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    train = mmhn.split("random_20_10_70").train
    model.train()
    for _ in range(steps):
        optimizer.zero_grad()
        output = model(mmhn)
        loss = F.cross_entropy(output.logits[train], mmhn.labels[train])
        (loss if output.aux_loss is None else loss + output.aux_loss).backward()
        optimizer.step()
    return model(mmhn).logits.detach()  # still in training mode: dropout masks are seeded too


@pytest.mark.parametrize("method", METHODS.names())
def test_deterministic_on_cpu(small_mmhn: MMHN, tmp_path: Path, method: str) -> None:
    first = train_steps(method, small_mmhn, tmp_path / "a")
    second = train_steps(method, small_mmhn, tmp_path / "b")  # a cold cache too
    assert torch.equal(first, second)


@pytest.mark.parametrize("method", METHODS.names())
def test_every_point_of_the_search_space_is_a_valid_configuration(method: str) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    entry = METHODS.get(method)
    for _ in range(30):
        overrides = entry.search_space(study.ask())
        assert overrides, "an empty search space tunes nothing"
        entry.config(overrides)  # raises on an invalid combination (e.g. heads not dividing hidden)
