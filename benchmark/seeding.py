"""Seed every random number generator a run touches."""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA generators
    os.environ["PYTHONHASHSEED"] = str(seed)
    # Deterministic kernels where PyTorch has them; warn (not fail) where it has none on GPU.
    torch.use_deterministic_algorithms(True, warn_only=True)
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.benchmark = False
