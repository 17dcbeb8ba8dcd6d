"""Layers shared by several methods; each lives in its own module."""

from methods.layers.early_fusion_input import EarlyFusionInput, concat_modalities
from methods.layers.flat_hetero_graph import FlatHeteroGraph, FlatHeteroGraphCache
from methods.layers.hgt_conv import BatchedRelationHGTConv
from methods.layers.hgt_encoder import HGTEncoder
from methods.layers.input_projection import ModalityInputProjection
from methods.layers.inter_modal_attention import InterModalAttentionTrace, InterModalHGTConv
from methods.layers.modality_readout import ModalityAttentionReadout, presence_softmax
from methods.layers.segment_softmax import segment_softmax

__all__ = [
    "BatchedRelationHGTConv",
    "EarlyFusionInput",
    "FlatHeteroGraph",
    "FlatHeteroGraphCache",
    "HGTEncoder",
    "InterModalAttentionTrace",
    "InterModalHGTConv",
    "ModalityAttentionReadout",
    "ModalityInputProjection",
    "concat_modalities",
    "presence_softmax",
    "segment_softmax",
]
