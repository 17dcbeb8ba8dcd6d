"""Layers shared by several methods; each lives in its own module."""

from methods.layers.flat_hetero_graph import FlatHeteroGraph, FlatHeteroGraphCache
from methods.layers.input_projection import ModalityInputProjection
from methods.layers.inter_modal_attention import InterModalAttentionTrace, InterModalHGTConv
from methods.layers.modality_readout import ModalityAttentionReadout
from methods.layers.segment_softmax import segment_softmax

__all__ = [
    "FlatHeteroGraph",
    "FlatHeteroGraphCache",
    "InterModalAttentionTrace",
    "InterModalHGTConv",
    "ModalityAttentionReadout",
    "ModalityInputProjection",
    "segment_softmax",
]
