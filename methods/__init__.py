"""The method registry, one module per method, and the layers they share (``methods.layers``)."""

from datasets.registry import discover
from methods.method import METHODS, Method, MethodConfig, MethodModel, MethodOutput, register_method

discover(__name__)

__all__ = ["METHODS", "Method", "MethodConfig", "MethodModel", "MethodOutput", "register_method"]
