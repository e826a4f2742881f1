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


ORDER = ("task", "baselines", "slices", "calibration", "overfitting", "forgetting", "drift")


def __getattr__(name: str):
    """REGISTRY and all_suites load the suite modules (and torch) only when asked: the audit imports this
    package for probe_items() alone."""
    if name in ("REGISTRY", "all_suites"):
        from . import baselines, calibration, drift, forgetting, overfitting, slices, task  # noqa: F401  (registers them)
        from .base import REGISTRY

        return REGISTRY if name == "REGISTRY" else [REGISTRY[n] for n in ORDER]
    raise AttributeError(name)
