"""HGNN-IMA on a graph small enough to compute by hand.

The reference below recomputes every quantity of ``docs/hgnn_ima.md`` with plain Python loops
over the few nodes and edges (numpy only for the small matrix products), from the model's
own parameters after the test has set them; the model's vectorised values must match it.
"""

from __future__ import annotations

import dataclasses
import math
from itertools import combinations

import numpy as np
import pytest
import torch
from torch_geometric.data import HeteroData

from datasets.mmhn import MMHN, Split
from methods.hgnn_ima import HGNNIMAModel
from methods.layers import FlatHeteroGraph, FlatHeteroGraphCache
from methods.method import METHODS

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TYPES = ("movie", "person")
MODALITIES = ("text", "image")
# movie -> person and back (persons never have an image: structural), movie <-> movie;
# movie 2 has no image (missing at random).
ACTS = [(0, 0), (1, 0), (1, 1), (0, 2)]  # (person, movie)
SIMILAR = [(0, 1), (1, 0), (2, 0), (0, 2)]  # (movie, movie), symmetric


def tiny_mmhn() -> MMHN:
    rng = np.random.default_rng(7)
    graph = HeteroData()
    graph["movie"].num_nodes = 3
    graph["person"].num_nodes = 2
    movie_image_present = torch.tensor([True, True, False])
    graph["movie"].x_text = torch.tensor(rng.normal(size=(3, 3)))
    graph["movie"].present_text = torch.ones(3, dtype=torch.bool)
    graph["movie"].x_image = torch.tensor(rng.normal(size=(3, 2))) * movie_image_present.unsqueeze(1)
    graph["movie"].present_image = movie_image_present
    graph["person"].x_text = torch.tensor(rng.normal(size=(2, 3)))
    graph["person"].present_text = torch.ones(2, dtype=torch.bool)
    graph["person"].x_image = torch.zeros(2, 0, dtype=torch.float64)
    graph["person"].present_image = torch.zeros(2, dtype=torch.bool)
    acts = torch.tensor(ACTS).T
    graph["person", "acts_in", "movie"].edge_index = acts
    graph["movie", "has_actor", "person"].edge_index = acts.flip(0)
    graph["movie", "similar", "movie"].edge_index = torch.tensor(SIMILAR).T
    one = torch.tensor([0])
    split = Split("tiny", train=one, val=torch.tensor([1]), test=torch.tensor([2]))
    return MMHN(name="tiny", graph=graph, modalities=MODALITIES, target="movie", labels=torch.tensor([0, 1, 0]),
                class_names=("a", "b"), splits={"tiny": split}).validate()


def tiny_model(mmhn: MMHN, seed: int = 0, method: str = "hgnn_ima", **overrides: object) -> HGNNIMAModel:
    config = METHODS.get(method).config({"hidden": 4, "heads": 2, "layers": 2, **overrides})
    model = HGNNIMAModel(mmhn, config).double().eval()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # hand-set weights: every parameter drawn by the test, none left at init
        for parameter in model.parameters():
            parameter.copy_(0.8 * torch.randn(parameter.shape, generator=generator, dtype=torch.float64))
    return model


# -- the reference: loops over nodes, edges, modalities and heads -----------------------------


def softmax(values: list[float]) -> list[float]:
    top = max(values)
    exps = [math.exp(v - top) for v in values]
    return [e / sum(exps) for e in exps]


def reference(model: HGNNIMAModel, mmhn: MMHN) -> dict:
    cfg = model.config
    P = {name: p.detach().numpy() for name, p in model.named_parameters()}
    M, d, H = len(MODALITIES), cfg.hidden, cfg.heads
    dk = d // H
    c = cfg.score_scale if cfg.score_scale is not None else 1 / math.sqrt(dk)
    relations = list(mmhn.edge_types)
    edges = [(r, rel[0], int(s), rel[2], int(t)) for r, rel in enumerate(relations) for s, t in mmhn.graph[rel].edge_index.T]

    # input projection: tanh(W x + b) where present, else 0
    h = {t: np.zeros((M, mmhn.num_nodes(t), d)) for t in TYPES}
    for t in TYPES:
        for mi, m in enumerate(MODALITIES):
            for v in range(mmhn.num_nodes(t)):
                if bool(mmhn.present(t, m)[v]):
                    x = mmhn.x(t, m)[v].numpy()
                    h[t][mi, v] = np.tanh(P[f"project.linears.{t}__{m}.weight"] @ x + P[f"project.linears.{t}__{m}.bias"])

    layers = []
    for k in range(cfg.layers):
        p = lambda name: P[f"convs.{k}.{name}"]  # noqa: E731
        kqv = {t: np.einsum("ij,mnj->mni", p(f"kqv.{t}.weight"), h[t]) + p(f"kqv.{t}.bias") for t in TYPES}
        key = lambda t, m, v, hd: kqv[t][m, v, hd * dk:(hd + 1) * dk]  # noqa: E731
        query = lambda t, m, v, hd: kqv[t][m, v, d + hd * dk:d + (hd + 1) * dk]  # noqa: E731
        value = lambda t, m, v, hd: kqv[t][m, v, 2 * d + hd * dk:2 * d + (hd + 1) * dk]  # noqa: E731
        E = len(edges)
        g, s = np.zeros((E, M, H)), np.zeros((E, M, H))
        for e, (r, ts, src, tt, dst) in enumerate(edges):
            for m in range(M):
                for hd in range(H):
                    g[e, m, hd] = key(ts, m, src, hd) @ p("w_node")[r, hd] @ query(tt, m, dst, hd) * p("mu")[r, hd] * c
                    if cfg.learns_lambda:
                        s[e, m, hd] = key(ts, m, src, hd) @ p("w_modal")[m, r, hd] @ query(tt, m, dst, hd)
        groups: dict[tuple, list[int]] = {}
        for e, (r, _, _, tt, dst) in enumerate(edges):
            groups.setdefault((r, tt, dst), []).append(e)

        def group_softmax(score: np.ndarray) -> np.ndarray:
            out = np.zeros_like(score)
            for members in groups.values():
                for idx in np.ndindex(score.shape[1:]):
                    for e, w in zip(members, softmax([score[(e, *idx)] for e in members])):
                        out[(e, *idx)] = w
            return out

        alpha = group_softmax(g)
        lam = beta1 = beta2 = None
        if cfg.shared_attention:
            lam = np.zeros((E, M, H))
            for e in range(E):
                for hd in range(H):
                    lam[e, :, hd] = softmax(list(s[e, :, hd])) if cfg.inter_modal else [1 / M] * M
            beta1 = (lam * alpha).sum(axis=1)
            if cfg.alignment:
                a = np.zeros((E, H))
                for e in range(E):
                    for hd in range(H):
                        a[e, hd] = -np.mean([abs(g[e, i, hd] - g[e, j, hd]) for i, j in combinations(range(M), 2)])
                beta2 = group_softmax(a)
                if cfg.combine == "softmax_product":
                    beta = group_softmax(beta1 * beta2)
                elif cfg.combine == "renorm_product":
                    beta = np.zeros((E, H))
                    for members in groups.values():
                        for hd in range(H):
                            total = sum(beta1[e, hd] * beta2[e, hd] for e in members)
                            for e in members:
                                beta[e, hd] = beta1[e, hd] * beta2[e, hd] / total
                else:
                    beta = beta1 + beta2
            else:
                beta = beta1
        else:
            beta = alpha

        into = {t: sum(1 for rel in relations if rel[2] == t) for t in TYPES}
        messages = {t: np.zeros((M, mmhn.num_nodes(t), d)) for t in TYPES}
        for e, (r, ts, src, tt, dst) in enumerate(edges):
            for m in range(M):
                for hd in range(H):
                    weight = beta[e, m, hd] if beta.ndim == 3 else beta[e, hd]
                    messages[tt][m, dst, hd * dk:(hd + 1) * dk] += weight * (value(ts, m, src, hd) @ p("w_msg")[r, hd]) / into[tt]
        new_h = {}
        for i, t in enumerate(TYPES):
            gate = 1 / (1 + math.exp(-p("skip")[i]))
            new_h[t] = np.zeros_like(h[t])
            for m in range(M):
                for v in range(mmhn.num_nodes(t)):
                    mixed = gate * (p(f"out.{t}.weight") @ messages[t][m, v] + p(f"out.{t}.bias")) + (1 - gate) * h[t][m, v]
                    normed = (mixed - mixed.mean()) / math.sqrt(mixed.var() + 1e-5)
                    new_h[t][m, v] = normed * p(f"norm.{t}.weight") + p(f"norm.{t}.bias")
        layers.append(dict(g=g, s=s, alpha=alpha, lam=lam, beta1=beta1, beta2=beta2, beta=beta,
                           messages=np.concatenate([messages[t] for t in TYPES], axis=1)))
        h = new_h

    # readout over the modalities each movie has
    gamma = np.zeros((M, 3))
    logits = np.zeros((3, 2))
    for v in range(3):
        have = [m for m in range(M) if bool(mmhn.present("movie", MODALITIES[m])[v])]
        w = [math.tanh(P["readout.score.weight"][0] @ h["movie"][m, v] + P["readout.score.bias"][0]) for m in have]
        for m, weight in zip(have, softmax(w)):
            gamma[m, v] = weight
        z = sum(gamma[m, v] * h["movie"][m, v] for m in range(M))
        logits[v] = P["classify.weight"] @ z + P["classify.bias"]

    # attention loss: mean over layers of mean λ over (edge, modality) whose source lacks it
    attention_loss = None
    if cfg.learns_lambda:
        per_layer = []
        for layer in layers:
            missing = [layer["lam"][e, m].mean() for e, (_, ts, src, _, _) in enumerate(edges)
                       for m in range(M) if not bool(mmhn.present(ts, MODALITIES[m])[src])]
            per_layer.append(np.mean(missing))
        attention_loss = float(np.mean(per_layer))
    return dict(layers=layers, gamma=gamma, logits=logits, attention_loss=attention_loss)


def assert_close(actual: torch.Tensor | None, expected: np.ndarray | None, name: str, order: list[int] | None = None) -> None:
    """``order`` maps the reference's edge i (relations in turn) to the model's edge row."""
    assert (actual is None) == (expected is None), name
    if actual is not None:
        values = actual.detach().numpy() if order is None else actual.detach().numpy()[order]
        np.testing.assert_allclose(values, expected, rtol=1e-9, atol=1e-12, err_msg=name)


def reference_edge_order(mmhn: MMHN, graph: FlatHeteroGraph) -> list[int]:
    rows = {(int(r), int(s), int(t)): i for i, (r, s, t) in enumerate(zip(graph.rel, graph.src, graph.dst))}
    return [rows[(r, int(s) + graph.node_offsets[rel[0]], int(t) + graph.node_offsets[rel[2]])]
            for r, rel in enumerate(mmhn.edge_types) for s, t in mmhn.graph[rel].edge_index.T]


VARIANTS = {
    "softmax_product": ("hgnn_ima", {}),
    "renorm_product": ("hgnn_ima", {"combine": "renorm_product"}),
    "sum": ("hgnn_ima", {"combine": "sum", "score_scale": 10.0}),
    "no_alignment": ("hgnn_ima_no_alignment", {}),
    "no_inter_modal": ("hgnn_ima_no_inter_modal", {}),
    "late": ("hgnn_ima_late", {}),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_every_attention_quantity_matches_the_hand_computation(variant: str) -> None:
    mmhn = tiny_mmhn()
    method, overrides = VARIANTS[variant]
    model = tiny_model(mmhn, method=method, **overrides)
    output, trace = model.forward_with_trace(mmhn)
    expected = reference(model, mmhn)
    order = reference_edge_order(mmhn, trace.graph)
    assert sorted(order) == list(range(len(order)))
    for k, (layer, ref) in enumerate(zip(trace.layers, expected["layers"])):
        assert_close(layer.scores, ref["g"], f"g, layer {k}", order)
        assert_close(layer.alpha, ref["alpha"], f"alpha, layer {k}", order)
        if model.config.learns_lambda:
            assert_close(layer.modal_scores, ref["s"], f"s, layer {k}", order)
        assert_close(layer.lam, ref["lam"], f"lambda, layer {k}", order)
        assert_close(layer.beta1, ref["beta1"], f"beta1, layer {k}", order)
        assert_close(layer.beta2, ref["beta2"], f"beta2, layer {k}", order)
        assert_close(layer.beta, ref["beta"], f"beta, layer {k}", order)
        assert_close(torch.cat([layer.messages[t] for t in TYPES], dim=1), ref["messages"], f"messages, layer {k}")
    assert_close(trace.gamma, expected["gamma"], "readout weights")
    assert_close(output.logits, expected["logits"], "logits")
    if expected["attention_loss"] is None:
        assert trace.attention_loss is None and output.aux_loss is None
    else:
        assert float(trace.attention_loss.detach()) == pytest.approx(expected["attention_loss"], rel=1e-12)
        assert float(output.aux_loss.detach()) == pytest.approx(model.config.eta * expected["attention_loss"], rel=1e-12)


def test_hand_graph_really_exercises_missing_sources_and_relation_averaging() -> None:
    """Guards the reference test against a graph too simple to catch anything."""
    mmhn = tiny_mmhn()
    _, trace = tiny_model(mmhn).forward_with_trace(mmhn)
    present = torch.cat([mmhn.present(t, "image") for t in TYPES])
    assert 0 < int((~present[trace.graph.src]).sum()) < trace.graph.src.numel()  # some, not all, sources lack the image
    assert trace.graph.relations_into == {"movie": 2, "person": 1}  # movies average two relations
    layer = trace.layers[0]
    assert not torch.allclose(layer.beta, layer.beta1)  # alignment moves β away from β1
    assert not torch.allclose(layer.lam, torch.full_like(layer.lam, 0.5))  # λ is learned, not uniform
    assert trace.attention_loss is not None and float(trace.attention_loss.detach()) > 0


def test_only_source_nodes_without_the_modality_count_in_the_attention_loss() -> None:
    mmhn = tiny_mmhn()
    full = dataclasses.replace(mmhn, graph=mmhn.graph.clone())
    full.graph["movie"].present_image = torch.ones(3, dtype=torch.bool)
    full.graph["person"].present_image = torch.ones(2, dtype=torch.bool)
    full.graph["person"].x_image = torch.ones(2, 2, dtype=torch.float64)
    model = tiny_model(full)
    _, trace = model.forward_with_trace(full)
    assert float(trace.attention_loss.detach()) == 0.0


# -- behaviour ---------------------------------------------------------------------------------


def test_values_behind_a_false_presence_flag_change_nothing(small_mmhn: MMHN) -> None:
    torch.manual_seed(0)
    config = METHODS.get("hgnn_ima").config({"aux_weight": 1.0, "input_batchnorm": True, "layers": 2})
    model = HGNNIMAModel(small_mmhn, config).eval()
    absent = ~small_mmhn.present("item", "image")
    assert absent.any()
    noisy_x = small_mmhn.x("item", "image").clone()
    noisy_x[absent] = 100 * torch.randn(int(absent.sum()), noisy_x.shape[1])
    noisy = small_mmhn.with_features("item", "image", noisy_x, small_mmhn.present("item", "image"))  # breaks the contract on purpose
    with torch.no_grad():
        clean_out, noisy_out = model(small_mmhn), model(noisy)
    assert torch.equal(clean_out.logits, noisy_out.logits)
    assert torch.equal(clean_out.aux_loss, noisy_out.aux_loss)
    for a, b in zip(clean_out.aux_logits, noisy_out.aux_logits):
        assert torch.equal(a.logits, b.logits)
    # and the same noise where the flag says present does change the output (the test can fail)
    present_noise = small_mmhn.with_features("item", "image", noisy_x, torch.ones_like(absent))
    with torch.no_grad():
        assert not torch.equal(clean_out.logits, model(present_noise).logits)


def test_gradients_reach_w_modal_through_the_task_and_the_attention_loss(small_mmhn: MMHN) -> None:
    torch.manual_seed(0)
    model = HGNNIMAModel(small_mmhn, METHODS.get("hgnn_ima").config())
    output = model(small_mmhn)
    train = small_mmhn.splits["random_20_10_70"].train
    torch.nn.functional.cross_entropy(output.logits[train], small_mmhn.labels[train]).backward(retain_graph=True)
    for conv in model.convs:
        assert conv.w_modal.grad is not None and conv.w_modal.grad.abs().sum() > 0
        conv.w_modal.grad = None
    output.aux_loss.backward()
    for conv in model.convs:  # the attention loss alone pushes W_MODAL too
        assert conv.w_modal.grad is not None and conv.w_modal.grad.abs().sum() > 0


def test_ablations_remove_their_component() -> None:
    mmhn = tiny_mmhn()
    _, no_inter = tiny_model(mmhn, method="hgnn_ima_no_inter_modal").forward_with_trace(mmhn)
    assert all(torch.equal(layer.lam, torch.full_like(layer.lam, 0.5)) for layer in no_inter.layers)
    assert all(torch.allclose(layer.beta1, layer.alpha.mean(dim=1)) for layer in no_inter.layers)  # β1 = mean_m α^m
    assert not any("w_modal" in name for name, _ in tiny_model(mmhn, method="hgnn_ima_no_inter_modal").named_parameters())
    assert no_inter.attention_loss is None

    _, no_align = tiny_model(mmhn, method="hgnn_ima_no_alignment").forward_with_trace(mmhn)
    assert all(layer.beta2 is None and torch.equal(layer.beta, layer.beta1) for layer in no_align.layers)

    out, no_loss = tiny_model(mmhn, method="hgnn_ima_no_attention_loss").forward_with_trace(mmhn)
    assert out.aux_loss is None and no_loss.attention_loss is not None  # still measured, not trained on

    _, late = tiny_model(mmhn, method="hgnn_ima_late").forward_with_trace(mmhn)
    assert all(layer.lam is None and torch.equal(layer.beta, layer.alpha) for layer in late.layers)


@pytest.mark.parametrize("method, crosses", [("hgnn_ima", True), ("hgnn_ima_late", False)])
def test_only_shared_attention_lets_one_modality_steer_the_other(method: str, crosses: bool) -> None:
    """Late: the image input cannot move the text stream. Shared β: it does."""
    mmhn = tiny_mmhn()
    model = tiny_model(mmhn, method=method)
    other_image = mmhn.x("movie", "image") * torch.tensor([[-2.0], [3.0], [0.0]])
    changed = mmhn.with_features("movie", "image", other_image, mmhn.present("movie", "image"))
    text_streams = []
    for graph in (mmhn, changed):
        streams, _ = model.project(graph)
        flat = FlatHeteroGraph.from_mmhn(graph)
        h = torch.cat([streams[t] for t in flat.node_types], dim=1)
        text_streams.append(model.convs[0](h, flat)[0][0])
    assert torch.allclose(text_streams[0], text_streams[1]) != crosses


def test_an_ablation_cannot_be_switched_back_on() -> None:
    with pytest.raises(ValueError, match="alignment"):
        METHODS.get("hgnn_ima_no_alignment").config({"alignment": True})
    with pytest.raises(ValueError, match="eta"):
        METHODS.get("hgnn_ima_no_attention_loss").config({"eta": 1.0})
    with pytest.raises(ValueError, match="combine"):
        METHODS.get("hgnn_ima").config({"combine": "max"})
    with pytest.raises(ValueError, match="score_scale"):
        METHODS.get("hgnn_ima").config({"score_scale": -1.0})


@pytest.mark.parametrize("method", ["hgnn_ima", "hgnn_ima_no_alignment", "hgnn_ima_no_attention_loss", "hgnn_ima_no_inter_modal", "hgnn_ima_late"])
def test_search_space_gives_valid_configs_and_never_undoes_the_ablation(method: str) -> None:
    optuna = pytest.importorskip("optuna")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    cls = METHODS.get(method)
    for _ in range(20):
        trial = study.ask()
        overrides = cls.search_space(trial)
        assert not set(overrides) & set(cls.Config.ABLATED)
        config = cls.config(overrides)
        HGNNIMAModel(tiny_mmhn(), config)  # builds
        study.tell(trial, 0.0)
    drawn = set(study.trials[0].params)
    assert ("eta" in drawn) == (method in ("hgnn_ima", "hgnn_ima_no_alignment"))
    assert ("combine" in drawn) == (method in ("hgnn_ima", "hgnn_ima_no_attention_loss", "hgnn_ima_no_inter_modal"))



def test_layout_is_reused_for_the_same_graph_and_rebuilt_for_another() -> None:
    mmhn = tiny_mmhn()
    cache = FlatHeteroGraphCache()
    first = cache.get(mmhn)
    assert cache.get(mmhn) is first
    assert cache.get(mmhn.with_features("movie", "text", mmhn.x("movie", "text") + 1, mmhn.present("movie", "text"))) is first  # same edges
    rewired = dataclasses.replace(mmhn, graph=mmhn.graph.clone())
    rewired.graph["movie", "similar", "movie"].edge_index = torch.tensor([[0, 1], [1, 0]])
    other = cache.get(rewired)
    assert other is not first and other.src.numel() == first.src.numel() - 2
    rewired.graph["movie", "similar", "movie"].edge_index[0, 0] = 2  # modified in place
    assert cache.get(rewired) is not other
