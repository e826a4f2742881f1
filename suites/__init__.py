"""Regression suites and their probe sets (JSONL under suites/probes/).

The audit's leakage check looks for probe items in the training data, so that a forgetting or drift
suite never scores items the adapter was trained on. A probe item is one JSONL object with an `id` and
its text in `context`, `text`, `prompt` or `question` (the first present)."""

from __future__ import annotations

import json
from pathlib import Path

PROBE_DIR = Path(__file__).with_name("probes")
_TEXT_KEYS = ("context", "text", "prompt", "question")


def probe_items(directory: str | Path | None = None) -> list[dict]:
    """Every probe item as {probe, id, text}; files are read in name order."""
    directory = Path(directory) if directory else PROBE_DIR
    items = []
    for path in sorted(directory.glob("*.jsonl")) if directory.is_dir() else []:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            rec = json.loads(line)
            text = next((rec[k] for k in _TEXT_KEYS if isinstance(rec.get(k), str) and rec[k].strip()), None)
            if text:
                items.append({"probe": path.stem, "id": rec.get("id", number), "text": text})
    return items


# Suites are discovered like checks (harness/core/registry.py): every module here, then the
# `finetune_harness.suites` entry points; REGISTRY loads them (and torch) only when first asked for a name.
from .base import (HIGHER, LOWER, REGISTRY, Answer, Chart, Context, Suite, SuiteResult, all_suites,  # noqa: E402
                   get_suite, metric, not_applicable, register)

__all__ = ["HIGHER", "LOWER", "REGISTRY", "Answer", "Chart", "Context", "Suite", "SuiteResult", "all_suites",
           "get_suite", "metric", "not_applicable", "probe_items", "register"]
