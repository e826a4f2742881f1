"""One base in memory, the adapter attached, every item scored twice through peft's adapter toggle.

Base and tuned see the same items, tokenised by the same tokenizer (the adapter's, carrying the chat
template it was trained with), in the same batches: every result is a pair. No second copy of the
model is loaded (lm-eval's `peft=` loads base and adapter once per run, and two runs to compare).

Results are cached on disk (sqlite, one row per side and item): the key holds the base fingerprint,
the adapter's sha256 (tuned side only, so a new adapter re-scores only the tuned side), the item's
token ids and scoring parameters, and the suite's version. A re-run after a change recomputes only
what changed; lm-eval's cache key ignores the model (#4063).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Sequence

from harness.core.errors import InputError
from harness.core.io import sha256_file
from harness.model.loading import BaseModel, cache_dir, load_base


ITEM_COUNTS = ("base", "tuned", "joint", "cached")


class ResultCache:
    """A key -> JSON store that survives between runs; a missing or broken file is just a cold cache."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self.db = None
        self.hits = self.misses = 0
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.db = sqlite3.connect(self.path)
                self.db.execute("CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT)")
            except sqlite3.DatabaseError:
                self.db = None

    def get_many(self, keys: Sequence[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.db is not None:
            for at in range(0, len(keys), 500):
                chunk = list(keys[at:at + 500])
                q = f"SELECT key, value FROM results WHERE key IN ({','.join('?' * len(chunk))})"
                found.update({k: json.loads(v) for k, v in self.db.execute(q, chunk)})
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put_many(self, items: dict[str, Any]) -> None:
        if self.db is not None and items:
            self.db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?)",
                                [(k, json.dumps(v)) for k, v in items.items()])
            self.db.commit()

    def close(self) -> None:
        if self.db is not None:
            self.db.close()


def adapter_sha256(adapter: Path) -> str:
    h = hashlib.sha256()
    for name in ("adapter_model.safetensors", "adapter_config.json"):
        h.update(sha256_file(adapter / name).encode())
    return h.hexdigest()


def read_manifest(adapter: Path) -> dict[str, Any]:
    for name in ("adapter_model.safetensors", "adapter_config.json"):
        if not (adapter / name).is_file():
            raise InputError(adapter, f"not an adapter directory: {name} is missing")
    # A truncated or corrupt adapter is bad input, found here before a base model loads.
    from safetensors import SafetensorError, safe_open

    weights = adapter / "adapter_model.safetensors"
    try:
        with safe_open(str(weights), "pt") as fh:
            fh.keys()
    except (SafetensorError, OSError) as exc:
        raise InputError(weights, f"corrupt adapter weights: {str(exc).splitlines()[0]}") from None
    config = _json_object(adapter / "adapter_config.json", "adapter config")
    if config is None:
        raise InputError(adapter / "adapter_config.json", "adapter config must be a JSON object")
    path = adapter / "manifest.json"
    if not path.is_file():
        return {}
    manifest = _json_object(path, "manifest")
    if manifest is None:
        raise InputError(path, "unreadable manifest: not a JSON object")
    return manifest


def _json_object(path: Path, what: str) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InputError(path, f"unreadable {what}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
    return data if isinstance(data, dict) else None


class Pair:
    """A base with its adapter attached; `both(fn)` runs fn once with the adapter off, once on."""

    def __init__(self, base: str | BaseModel, adapter: str | Path, cache: str | Path | None = None,
                 device: str = "cpu") -> None:
        from peft import PeftModel
        from transformers import AutoTokenizer

        self.adapter = Path(adapter)
        if not self.adapter.is_dir():
            raise InputError(self.adapter, "no such adapter directory")
        self.manifest = read_manifest(self.adapter)
        loaded = base if isinstance(base, BaseModel) else load_base(base, device=device)
        self.fingerprint = loaded.fingerprint
        expected = (self.manifest.get("base") or {}).get("weights_sha256")
        if expected and expected != self.fingerprint.weights_sha256:
            trained_on = self.manifest["base"].get("name", "?")
            raise InputError(self.adapter, f"adapter was trained on base {trained_on} (weights sha256 "
                                           f"{expected[:12]}...), not on {self.fingerprint.name} (weights sha256 "
                                           f"{self.fingerprint.weights_sha256[:12]}...); compare it with its own base")
        self.adapter_sha256 = adapter_sha256(self.adapter)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.adapter), local_files_only=True)
        except (OSError, ValueError):
            self.tokenizer = loaded.tokenizer
        if not getattr(self.tokenizer, "chat_template", None):
            self.tokenizer.chat_template = loaded.tokenizer.chat_template
        try:
            self.model = PeftModel.from_pretrained(loaded.model, str(self.adapter), is_trainable=False)
        except (ValueError, RuntimeError, KeyError, TypeError, OSError) as exc:
            raise InputError(self.adapter, f"cannot attach the adapter to {self.fingerprint.name}: "
                                           f"{str(exc).splitlines()[0]}") from None
        self.model.eval()
        self.cache = ResultCache(cache if cache is not None else cache_dir() / "compare-cache.sqlite")
        # Items the running suite asked for (`running`, set by compare; a suite reading another's scores
        # counts them as its own), per side ("joint": both at once), and how many came from the cache.
        self.items: dict[str, dict[str, int]] = {}
        self.running: str | None = None
        # Told as a suite's uncached items are scored: (suite, side, items done, items to score), for a
        # progress bar; scoring functions report each batch (harness/model/scoring.py: items_done).
        self.on_scoring: Callable[[str, str, int, int], None] | None = None

    def _count(self, suite: str, which: str, asked: int, cached: int) -> None:
        counts = self.items.setdefault(self.running or suite.split(":")[0], dict.fromkeys(ITEM_COUNTS, 0))
        counts[which] += asked
        counts["cached"] += cached

    @contextmanager
    def _progress(self, suite: str, which: str, total: int):
        """Report the items of one scoring call as its batches finish (0 of `total` first)."""
        if self.on_scoring is None:
            yield
            return
        from harness.model.scoring import ITEMS_DONE

        name, done = self.running or suite.split(":")[0], [0]

        def advance(n: int) -> None:
            done[0] = min(total, done[0] + n)  # a compute that scores in several passes counts each; capped
            self.on_scoring(name, which, done[0], total)

        self.on_scoring(name, which, 0, total)
        token = ITEMS_DONE.set(advance)
        try:
            yield
        finally:
            ITEMS_DONE.reset(token)

    def items_of(self, suite: str) -> dict[str, int]:
        """The counts of one suite's items, taken out (a suite that scored nothing: zeros)."""
        return self.items.pop(suite, None) or dict.fromkeys(ITEM_COUNTS, 0)

    @contextmanager
    def side(self, which: str):
        if which == "base":
            with self.model.disable_adapter():
                yield self.model
        else:
            yield self.model

    def _side_key(self, which: str) -> str:
        fp = f"{self.fingerprint.weights_sha256}:{self.fingerprint.dtype}"
        return fp if which == "base" else f"{fp}+{self.adapter_sha256}"

    def both(self, suite: str, kind: str, items: Sequence[Any], item_keys: Sequence[Any],
             compute: Callable[[Any, list[Any]], list[Any]]) -> dict[str, list[Any]]:
        """For every item, compute(model, items) on each side, through the cache. `item_keys` are
        JSON-able descriptions of what each item scores (token ids, parameters); `suite` carries its
        version ("drift:1"). Items missing from the cache are computed in one call per side, so
        batching is identical on both sides."""
        return {which: self.one(which, suite, kind, items, item_keys, compute) for which in ("base", "tuned")}

    def one(self, which: str, suite: str, kind: str, items: Sequence[Any], item_keys: Sequence[Any],
            compute: Callable[[Any, list[Any]], list[Any]]) -> list[Any]:
        """compute(model, items) on one side only ("base" or "tuned"), through the cache: the prompting
        baselines need the base alone, with prompts the tuned side never sees."""
        side = self._side_key(which)
        keys = [hashlib.sha256(json.dumps([side, suite, kind, k], sort_keys=True).encode()).hexdigest()
                for k in item_keys]
        found = self.cache.get_many(keys)
        todo = [i for i, k in enumerate(keys) if k not in found]
        self._count(suite, which, len(keys), len(keys) - len(todo))
        if todo:
            with self.side(which) as model, self._progress(suite, which, len(todo)):
                fresh = compute(model, [items[i] for i in todo])
            new = {keys[i]: v for i, v in zip(todo, fresh)}
            self.cache.put_many(new)
            found.update(new)
        return [found[k] for k in keys]

    def joint(self, suite: str, kind: str, items: Sequence[Any], item_keys: Sequence[Any],
              compute: Callable[["Pair", list[Any]], list[Any]]) -> list[Any]:
        """A figure that needs both sides at once (KL between them), cached under the tuned side's key."""
        side = self._side_key("tuned")
        keys = [hashlib.sha256(json.dumps([side, suite, kind, k], sort_keys=True).encode()).hexdigest()
                for k in item_keys]
        found = self.cache.get_many(keys)
        todo = [i for i, k in enumerate(keys) if k not in found]
        self._count(suite, "joint", len(keys), len(keys) - len(todo))
        if todo:
            with self._progress(suite, "both sides", len(todo)):
                fresh = compute(self, [items[i] for i in todo])
            new = {keys[i]: v for i, v in zip(todo, fresh)}
            self.cache.put_many(new)
            found.update(new)
        return [found[k] for k in keys]

    def close(self) -> None:
        self.cache.close()
