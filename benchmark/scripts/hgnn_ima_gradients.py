#!/usr/bin/env python
"""Where HGNN-IMA's inter-modal weights λ can learn: W_MODAL's gradients at initialisation.

    python benchmark/scripts/hgnn_ima_gradients.py --dataset imdb_mm [--seeds 0,1] [--set input_batchnorm=true]

Builds the method as a run does (same seeding), makes one training-mode forward pass over the
whole graph and prints, per layer, modality and relation: the mean |s^m| (the inter-modal
score λ is the softmax of) and the norm of the gradient on that (modality, relation) slice
of ``W_MODAL`` from the train cross-entropy alone and from the attention loss L_att alone.
A slice that neither loss reaches cannot move λ, whatever the schedule. No optimiser step
is taken and no label outside the train split is read.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmark.scripts.validation_probe import parse_override  # noqa: E402
from benchmark.seeding import seed_everything  # noqa: E402
from datasets.mmhn import MMHN  # noqa: E402
from methods.hgnn_ima import HGNNIMAModel  # noqa: E402
from methods.method import METHODS  # noqa: E402


@dataclass(frozen=True)
class SliceGradient:
    layer: int  # 1-based
    modality: str
    relation: str
    mean_abs_score: float  # mean over the relation's edges and heads of |s^m_st|
    ce_gradient: float  # ‖∂ CE / ∂ W_MODAL[m, r]‖ in this layer
    attention_loss_gradient: float  # ‖∂ L_att / ∂ W_MODAL[m, r]‖ in this layer


def initial_gradients(method: str, mmhn: MMHN, split: str, seed: int, overrides: dict[str, Any], cache_dir: Path) -> list[SliceGradient]:
    """Per (layer, modality, relation): |s| and W_MODAL's gradient norms from CE and L_att at initialisation."""
    seed_everything(seed)
    model = METHODS.get(method).build(mmhn, METHODS.get(method).config(overrides), cache_dir)
    if not isinstance(model, HGNNIMAModel) or not model.config.learns_lambda:
        raise SystemExit(f"{method} does not learn inter-modal weights λ; choose an HGNN-IMA variant that does")
    model.train()
    output, trace = model.forward_with_trace(mmhn)
    train = mmhn.split(split).train
    weights = [conv.w_modal for conv in model.convs]
    ce = torch.autograd.grad(F.cross_entropy(output.logits[train], mmhn.labels[train]), weights, retain_graph=True, allow_unused=True)
    att = torch.autograd.grad(trace.attention_loss, weights, allow_unused=True)
    relations = ["-".join(edge_type) for edge_type in trace.graph.relations]
    counts = torch.bincount(trace.graph.rel, minlength=len(relations)).clamp_min(1)
    rows = []
    for k, (layer, ce_k, att_k) in enumerate(zip(trace.layers, ce, att), start=1):
        # mean |s| per (relation, modality) in one pass over the edges; 0 for a relation without edges
        mean_abs = layer.modal_scores.detach().abs().mean(dim=-1)  # [E, M]
        scores = mean_abs.new_zeros(len(relations), mean_abs.shape[1]).index_add(0, trace.graph.rel, mean_abs) / counts.unsqueeze(1)
        for m, modality in enumerate(mmhn.modalities):
            for r, relation in enumerate(relations):
                rows.append(SliceGradient(
                    k, modality, relation, float(scores[r, m]),
                    0.0 if ce_k is None else float(ce_k[m, r].norm()), 0.0 if att_k is None else float(att_k[m, r].norm()),
                ))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--method", default="hgnn_ima")
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a configuration override (repeatable)")
    parser.add_argument("--data-root", default=os.environ.get("MMHN_DATA_ROOT"))
    parser.add_argument("--cache-dir", default=os.environ.get("MMHN_CACHE_DIR", str(Path.home() / ".cache" / "mmhn-bench")))
    args = parser.parse_args()
    from datasets.adapter import DataContext
    from datasets.loading import get_adapter, load_dataset

    overrides = dict(parse_override(text) for text in args.set)
    context = DataContext(Path(args.data_root) if args.data_root else None, Path(args.cache_dir), progress=False)
    mmhn = load_dataset(args.dataset, context, {})
    split = get_adapter(args.dataset).default_split
    print(f"{args.method} on {args.dataset}, overrides {overrides or 'none'}; gradients at initialisation, train split {split!r}")
    print(f"{'seed':>4} {'layer':>5}  {'modality':<8} {'relation':<32} {'mean |s|':>9} {'|dCE/dW|':>10} {'|dLatt/dW|':>10}")
    for seed in (int(s) for s in args.seeds.split(",")):
        for row in initial_gradients(args.method, mmhn, split, seed, overrides, context.cache_dir):
            print(f"{seed:>4} {row.layer:>5}  {row.modality:<8} {row.relation:<32} {row.mean_abs_score:>9.4f} "
                  f"{row.ce_gradient:>10.2e} {row.attention_loss_gradient:>10.2e}")


if __name__ == "__main__":
    main()
