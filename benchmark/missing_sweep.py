"""Missing-modality sweeps: expand a grid's runs over (modality, setting, rate).

``run_all.py --missing sweep`` turns every (dataset, method, seed) of the usual grid into a
robustness curve: for each modality separately and each setting, one run per missing rate.
Rate 0 drops nothing, so it is the plain run (no missing setting): one run per (method,
seed) serves as the r = 0 point of every curve of its dataset, and is shared with the
ordinary leaderboard (a plain grid run before a sweep is not redone, and vice versa).

Runs are ordered seed by seed (every method's every point for seed 0, then seed 1, ...), so
an interrupted sweep leaves complete, paired curves for the seeds it finished. Within a seed
they go point by point, every method at one point before the next: the ``test_only`` points
of one (method, seed) evaluate the model its plain run stored (:mod:`benchmark.selected_weights`),
and the plain run comes first, with every method's ``train_test`` points between it and
them, so with a few workers it has finished by then; a ``test_only`` point that starts
while its model still trains waits for that training and loads its weights.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from typing import Callable

from benchmark.spec import RunSpec
from datasets.missing import MECHANISMS, SETTINGS, MissingSetting

DEFAULT_RATES = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9)
SWEEPABLE = tuple(m for m in MECHANISMS if m not in ("none", "natural"))


@dataclass(frozen=True)
class MissingSweep:
    """What a sweep varies; ``modalities=None`` means every modality of each dataset."""

    mechanism: str = "mcar"
    rates: tuple[float, ...] = DEFAULT_RATES
    modalities: tuple[str, ...] | None = None
    settings: tuple[str, ...] = SETTINGS


def add_sweep_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--missing", default="none", help="none (default), or sweep: robustness curves over missing rates")
    parser.add_argument("--missing-rates", default=None, metavar="R,R,...",
                        help=f"rates in [0, 1] for --missing sweep (default {','.join(f'{r:g}' for r in DEFAULT_RATES)}; 0 is always included)")
    parser.add_argument("--missing-modalities", default=None, metavar="M,M,...", help="modalities to drop, one at a time (default: all of each dataset)")
    parser.add_argument("--missing-mechanism", default=None, help=f"one of: {', '.join(SWEEPABLE)} (default mcar)")
    parser.add_argument("--missing-settings", default=None, metavar="S,S,...", help=f"any of: {', '.join(SETTINGS)} (default both)")


def sweep_from_args(args: argparse.Namespace) -> MissingSweep | None:
    """The sweep the arguments ask for, or None; a ValueError names any bad value."""
    extras = {"--missing-rates": args.missing_rates, "--missing-modalities": args.missing_modalities,
              "--missing-mechanism": args.missing_mechanism, "--missing-settings": args.missing_settings}
    if args.missing == "none":
        given = [name for name, value in extras.items() if value is not None]
        if given:
            raise ValueError(f"{', '.join(given)} needs --missing sweep")
        return None
    if args.missing != "sweep":
        raise ValueError(f"--missing {args.missing!r}; valid: none, sweep")
    sweep = MissingSweep()
    if args.missing_mechanism is not None:
        if args.missing_mechanism == "natural":
            raise ValueError("--missing-mechanism natural has no rate to sweep: the dataset's own missingness is in every run "
                             f"(the r = 0 point of every curve); valid: {', '.join(SWEEPABLE)}")
        if args.missing_mechanism not in SWEEPABLE:
            raise ValueError(f"--missing-mechanism {args.missing_mechanism!r}; valid: {', '.join(SWEEPABLE)}")
        sweep = dataclasses.replace(sweep, mechanism=args.missing_mechanism)
    if args.missing_rates is not None:
        sweep = dataclasses.replace(sweep, rates=_rates(args.missing_rates))
    if args.missing_modalities is not None:
        sweep = dataclasses.replace(sweep, modalities=_list(args.missing_modalities, "--missing-modalities"))
    if args.missing_settings is not None:
        settings = _list(args.missing_settings, "--missing-settings")
        for setting in settings:
            if setting not in SETTINGS:
                raise ValueError(f"--missing-settings: unknown setting {setting!r}; valid: {', '.join(SETTINGS)}")
        sweep = dataclasses.replace(sweep, settings=settings)
    return sweep


def plan_missing_sweep(base: list[RunSpec], sweep: MissingSweep, modalities_of: Callable[[str], tuple[str, ...]]) -> list[RunSpec]:
    """Every base spec at every (modality, setting, rate); rate 0 is the base spec itself.

    ``modalities_of(dataset)`` gives a dataset's modalities; a requested modality that a
    dataset lacks is a ValueError naming both.
    """
    specs: dict[str, RunSpec] = {}
    datasets = list(dict.fromkeys(s.dataset for s in base))
    for dataset in datasets:
        available = modalities_of(dataset)
        chosen = sweep.modalities if sweep.modalities is not None else available
        for modality in chosen:
            if modality not in available:
                raise ValueError(f"--missing-modalities: dataset {dataset!r} has no modality {modality!r}; valid: {', '.join(available)}")
        runs = [s for s in base if s.dataset == dataset]
        for seed in sorted({s.seed for s in runs}):
            for missing in _settings(sweep, chosen):
                for spec in (s for s in runs if s.seed == seed):  # method order kept
                    swept = dataclasses.replace(spec, missing=missing)
                    specs.setdefault(swept.spec_id, swept)
    return list(specs.values())


def _settings(sweep: MissingSweep, modalities: tuple[str, ...]) -> list[MissingSetting]:
    out = [MissingSetting()]  # r = 0: drops nothing, whatever the modality or setting
    for modality in modalities:
        for setting in sweep.settings:
            out += [MissingSetting(sweep.mechanism, modality, rate, setting) for rate in sweep.rates if rate > 0]
    return out


def _list(value: str, option: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(v.strip() for v in value.split(",") if v.strip()))
    if not names:
        raise ValueError(f"{option} is empty")
    return names


def _rates(value: str) -> tuple[float, ...]:
    rates = set()
    for text in _list(value, "--missing-rates"):
        try:
            rate = float(text)
        except ValueError:
            raise ValueError(f"--missing-rates: {text!r} is not a number (rates are fractions in [0, 1], e.g. 0.1,0.5)") from None
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"--missing-rates: {text} is outside [0, 1]")
        rates.add(rate)
    return tuple(sorted(rates | {0.0}))
