"""Layers shared by several methods; each lives in its own module."""

from methods.layers.input_projection import ModalityInputProjection
from methods.layers.modality_readout import ModalityAttentionReadout
from methods.layers.segment_softmax import segment_softmax

__all__ = ["ModalityAttentionReadout", "ModalityInputProjection", "segment_softmax"]
