"""Late-fusion HGT: branches see one modality each; the fusion ignores modalities a node lacks."""

from __future__ import annotations

import math

import pytest
import torch

from datasets.mmhn import MMHN
from methods.late_fusion_hgt import FUSIONS, LateFusionHGT, LateFusionHGTModel
from methods.method import METHODS


def build(mmhn: MMHN, fusion: str) -> LateFusionHGTModel:
    torch.manual_seed(0)
    return LateFusionHGT.build(mmhn, LateFusionHGT.config({"fusion": fusion, "hidden": 16, "heads": 2}), None).eval()  # type: ignore[arg-type]


def branch_outputs(model: LateFusionHGTModel, mmhn: MMHN) -> list[torch.Tensor]:
    return [branch(mmhn)[mmhn.target] for branch in model.branches]


def scramble_image_branch(model: LateFusionHGTModel) -> torch.utils.hooks.RemovableHandle:
    """Replace the image branch's target embeddings by large noise."""
    def hook(module: torch.nn.Module, inputs: object, output: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        return {**output, "item": 100 * torch.randn_like(output["item"])}

    return model.branches[model.modalities.index("image")].register_forward_hook(hook)


@pytest.mark.parametrize("fusion", FUSIONS)
def test_a_missing_modality_has_no_influence_on_the_node(small_mmhn: MMHN, fusion: str) -> None:
    model = build(small_mmhn, fusion)
    missing = ~small_mmhn.present("item", "image")
    assert missing.any() and (~missing).any()
    with torch.no_grad():
        clean = model(small_mmhn).logits
        handle = scramble_image_branch(model)
        noisy = model(small_mmhn).logits
        handle.remove()
    assert torch.allclose(clean[missing], noisy[missing])
    assert not torch.allclose(clean[~missing], noisy[~missing])


def test_logits_mean_averages_the_branches_a_node_has(small_mmhn: MMHN) -> None:
    model = build(small_mmhn, "logits_mean")
    with torch.no_grad():
        z_text, z_image = branch_outputs(model, small_mmhn)
        text, image = model.classifiers[0](z_text), model.classifiers[1](z_image)
        logits = model(small_mmhn).logits
    both = small_mmhn.present("item", "image")
    assert torch.allclose(logits[both], (text[both] + image[both]) / 2, atol=1e-6)
    assert torch.allclose(logits[~both], text[~both], atol=1e-6)


def test_weighted_logits_renormalise_the_learned_weights_per_node(small_mmhn: MMHN) -> None:
    model = build(small_mmhn, "weighted_logits")
    with torch.no_grad():
        model.modality_logit.copy_(torch.tensor([math.log(3.0), 0.0]))  # text 0.75, image 0.25
        z_text, z_image = branch_outputs(model, small_mmhn)
        text, image = model.classifiers[0](z_text), model.classifiers[1](z_image)
        output = model(small_mmhn)
    both = small_mmhn.present("item", "image")
    assert torch.allclose(output.logits[both], 0.75 * text[both] + 0.25 * image[both], atol=1e-6)
    assert torch.allclose(output.logits[~both], text[~both], atol=1e-6)
    # mean over nodes of (0.75, 0.25) on nodes with both and (1, 0) on the others
    share = float(both.float().mean())
    assert output.diagnostics["modality_weights"].tolist() == pytest.approx([0.75 * share + (1 - share), 0.25 * share])


def test_attention_weights_are_a_distribution_over_present_modalities(small_mmhn: MMHN) -> None:
    model = build(small_mmhn, "attention")
    with torch.no_grad():
        weights = model(small_mmhn).diagnostics["modality_weights"]
    assert weights.shape == (2,) and float(weights.sum()) == pytest.approx(1.0)


def test_a_modality_the_target_type_lacks_structurally_gets_no_branch(small_mmhn: MMHN) -> None:
    n = small_mmhn.num_nodes("item")
    text_only = small_mmhn.with_features("item", "image", torch.zeros(n, 0), torch.zeros(n, dtype=torch.bool)).validate()
    model = build(text_only, "attention")
    assert model.modalities == ("text",) and len(model.branches) == 1


def test_each_branch_is_early_fusion_hgt_on_one_modality(small_mmhn: MMHN) -> None:
    """Same HGT stack as early_fusion_hgt; the input reads one modality only."""
    early_method = METHODS.get("early_fusion_hgt")
    early = early_method.build(small_mmhn, early_method.config({"hidden": 16, "heads": 2}), None)  # type: ignore[arg-type]
    late = build(small_mmhn, "logits_mean")
    for modality, branch in zip(("text", "image"), late.branches):
        assert branch.input.project.modalities == (modality,)
        assert sum(p.numel() for p in branch.convs.parameters()) == sum(p.numel() for p in early.encoder.convs.parameters())
