"""`harness compare`: judge a tuned adapter against its base with the regression suites and the gate.

One base in memory with the adapter attached (harness/paired.py); each suite scores its items on both
sides and returns plain data; a suite that crashes becomes an `error` result and the rest still run;
the gate policy decides pass or fail afterwards. Results are the versioned dict `harness.compare/1`
that the CLI, the Python API and the reports all read.
"""

from __future__ import annotations

import time
import traceback
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from . import __version__
from .data import load_table
from .errors import HarnessError, InputError, UsageError
from .gate import apply, load_gate
from .io import write_json_atomic, write_text_atomic

SCHEMA = "harness.compare/1"


def compare(base: Any, adapter: str | Path, train: Any = None, eval: Any = None, *,
            probes: Sequence[str | Path] | None = None, prompts: Sequence[str | Path] | None = None,
            policy: str | Path | Mapping[str, Any] | None = None, out: str | Path | None = None,
            suites: Sequence[str] | None = None, cache: str | Path | None = None,
            on_suite: Callable[[str, str], None] | None = None) -> dict[str, Any]:
    """Score base and tuned on every enabled suite, apply the gate, and (with `out`) write results.json
    and junit.xml and fill the adapter's model card. Returns the results dict."""
    import suites as suite_pkg
    from suites.base import Context, get_suite
    from suites.drift import read_prompts

    from .paired import Pair
    from .render import DEFAULT_PROMPT

    started = time.perf_counter()
    gate = load_gate(policy)
    chosen = list(suites) if suites else [n for n in suite_pkg.ORDER if gate["suites"].get(n, {}).get("enabled", True)]
    for name in chosen:
        get_suite(name)  # unknown names fail here, with a did-you-mean, before any model is loaded
    extra_prompts = []
    for path in prompts or []:
        if not Path(path).is_file():
            raise InputError(path, "no such prompt file")
        extra_prompts += read_prompts(Path(path))

    import torch

    pair = Pair(base, adapter, cache=cache, device="cuda" if torch.cuda.is_available() else "cpu")
    try:
        manifest = pair.manifest
        data = manifest.get("data") or {}
        config = manifest.get("config") or {}
        train_table = load_table(train, "train", shape=data.get("shape")) if train is not None else None
        shape = data.get("shape") or (train_table.shape if train_table else None)
        eval_table = load_table(eval, "eval", shape=shape) if eval is not None else None
        shape = shape or (eval_table.shape if eval_table else None)
        if shape is None:
            raise UsageError("give --train or --eval (or an adapter whose manifest names its data shape)")
        labels = list(data.get("labels") or [])
        if shape == "classification" and not labels:
            labels = sorted({ex.label for t in (train_table, eval_table) if t for ex in t.examples})
        ctx = Context(pair=pair, shape=shape, labels=labels,
                      train=train_table.examples if train_table else [], eval=eval_table.examples if eval_table else [],
                      prompt_template=config.get("prompt_template") or DEFAULT_PROMPT, system=config.get("system"),
                      max_seq_len=int(config.get("max_seq_len") or 512), seed=int(gate.get("seed", 0)),
                      extra_prompts=extra_prompts, task_params=dict(gate["suites"].get("task", {}).get("params") or {}))
        results: dict[str, Any] = {
            "schema": SCHEMA, "harness_version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "base": pair.fingerprint.to_dict(),
            "adapter": {"path": str(adapter), "sha256": pair.adapter_sha256,
                        "trained_on": (manifest.get("base") or {}).get("weights_sha256"),
                        "manifest": bool(manifest)},
            "data": {"shape": shape, "labels": labels,
                     "train": _table_info(train_table), "eval": _table_info(eval_table)},
            "policy": gate, "suites": {}, "verdict": None}
        for name in chosen:
            suite = get_suite(name)()
            params = dict(gate["suites"].get(name, {}).get("params") or {})
            if name == "forgetting" and probes:
                params["extra_probe_paths"] = [str(p) for p in probes]
            if on_suite:
                on_suite(name, "start")
            t0 = time.perf_counter()
            try:
                res = suite.run(ctx, params)
                info = res.get("info", {})
                status = "not_applicable" if info.get("applicable") is False else "ok"
                entry = {"status": status, **res}
            except HarnessError:
                raise
            except Exception as exc:  # a crashing suite is reported; the others still run (deepchecks)
                entry = {"status": "error", "metrics": {}, "info": {}, "rows": [],
                         "error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc(limit=6)}
            entry.update(title=suite.title, why=suite.why, version=suite.version,
                         seconds=round(time.perf_counter() - t0, 2))
            results["suites"][name] = plain(entry)
            if on_suite:
                on_suite(name, entry["status"])
        results["verdict"] = apply(results, gate)
        results["cache"] = {"hits": pair.cache.hits, "misses": pair.cache.misses,
                            "path": str(pair.cache.path) if pair.cache.path else None}
        results["seconds"] = round(time.perf_counter() - started, 2)
    finally:
        pair.close()
    if out is not None:
        write_outputs(results, Path(out), Path(adapter))
    return results


def plain(obj: Any) -> Any:
    """JSON-able: numpy scalars to Python, NaN and infinities to None (a figure that does not exist)."""
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _table_info(table) -> dict[str, Any] | None:
    if table is None:
        return None
    return {"path": table.source, "sha256": table.sha256, "rows": len(table.examples), "bad_rows": len(table.bad_rows)}


def write_outputs(results: dict[str, Any], out: Path, adapter: Path) -> None:
    from reports.junit import render_junit
    from reports.model_card import fill_results

    from reports.html import render_html

    write_json_atomic(out / "results.json", results)
    write_text_atomic(out / "junit.xml", render_junit(results))
    docs = {"compare": results}
    manifest = adapter / "manifest.json"
    if manifest.is_file():
        import json

        try:
            docs["manifest"] = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    write_text_atomic(out / "report.html", render_html(docs))
    card = adapter / "README.md"
    if card.is_file():
        write_text_atomic(card, fill_results(card.read_text(encoding="utf-8"), results))
