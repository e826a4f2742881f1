"""`harness compare`: judge a tuned adapter against its base with the regression suites and the gate.

One base in memory with the adapter attached (harness/comparing/paired.py); each suite scores its items on both
sides and returns a SuiteResult; a suite that crashes becomes an `error` entry and the rest still run,
one that does not apply a `skipped` one; the gate policy decides each other suite's status (pass, warn,
fail) and the verdict afterwards. Results are the versioned dict `harness.compare/2`
that the CLI, the Python API and the reports all read; writing them (results.json, JUnit, the report,
the model card's results) is the application's (harness/app/artefacts.py).
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from harness.inputs.data import load_table
from harness.inputs.data_spec import DataSpec
from harness.core.declarations import declarations
from harness.inputs.eval_shapes import map_examples
from harness.core.errors import HarnessError, InputError, UsageError
from harness.comparing.gate import apply, load_gate
from harness.core.params import build
from harness.core.results import COMPARE_SCHEMA, crashed, plain
from harness.inputs.shapes import get_shape
from harness.core.status import PASS, SKIPPED
from harness.suites import REGISTRY, Context, SuiteResult, get_suite
from harness.core.version import __version__

SCHEMA = COMPARE_SCHEMA


def trained_seq_len(manifest: Mapping[str, Any]) -> int:
    """The max_seq_len the adapter was trained with: its manifest's recorded data spec, else its train
    config (adapters made before the spec was recorded), else the one default (harness/inputs/data_spec.py), which
    an adapter whose config lacks it was trained with. A bare train config is read as its `config`."""
    if "config" not in manifest and "data_spec" not in manifest:
        manifest = {"config": manifest}
    return int((manifest.get("data_spec") or {}).get("max_seq_len")
               or (manifest.get("config") or {}).get("max_seq_len") or DataSpec.max_seq_len)


def compare_spec(manifest: Mapping[str, Any], shape: str | None = None,
                 fields: Mapping[str, str] | None = None) -> DataSpec:
    """The data spec compare reads and encodes with: the adapter's recorded one (its max_seq_len as
    trained_seq_len finds it), the user's `shape` and `fields` over it."""
    known = {f.name for f in dataclasses.fields(DataSpec)}
    recorded = {k: v for k, v in (manifest.get("data_spec") or {}).items() if k in known}
    spec = DataSpec.from_mapping(recorded, "adapter manifest: data_spec") if recorded else DataSpec()
    spec = spec.override("adapter manifest", max_seq_len=trained_seq_len(manifest))
    return spec.override("compare", shape=shape, fields={**spec.fields, **fields} if fields else None)


def compare(base: Any, adapter: str | Path, train: Any = None, eval: Any = None, *,
            probes: Sequence[str | Path] | None = None, prompts: Sequence[str | Path] | None = None,
            policy: str | Path | Mapping[str, Any] | None = None,
            suites: Sequence[str] | None = None, cache: str | Path | None = None, fast: bool = False,
            on_suite: Callable[[str, str], None] | None = None,
            on_progress: Callable[[str, str, int, int], None] | None = None,
            shape: str | None = None,
            fields: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Score base and tuned on every enabled suite and apply the gate. Returns the results dict.
    `fast`: harness/comparing/fast_gate.yaml's smaller samples under the user's policy (CI). `on_progress(suite, side,
    done, total)` hears the items of each scoring call as its batches finish. The data is read as
    the adapter's training read it (its manifest); `shape` and `fields` override that."""
    from harness.comparing.paired import Pair
    from harness.model.render import DEFAULT_PROMPT
    from harness.inputs.prompt_files import read_prompts

    started = time.perf_counter()
    gate = load_gate(policy, fast=fast)
    chosen = list(suites) if suites else [n for n in REGISTRY.names() if gate["suites"].get(n, {}).get("enabled", True)]
    for name in chosen:
        get_suite(name)  # unknown names fail here, with a did-you-mean, before any model is loaded
    extra_prompts = []
    for path in prompts or []:
        if not Path(path).is_file():
            raise InputError(path, "no such prompt file")
        extra_prompts += read_prompts(Path(path))

    import torch

    pair = Pair(base, adapter, cache=cache, device="cuda" if torch.cuda.is_available() else "cpu")
    pair.on_scoring = on_progress  # (suite, side, items done, items to score) as batches finish
    try:
        manifest = pair.manifest
        data = manifest.get("data") or {}
        config = manifest.get("config") or {}
        spec = compare_spec(manifest, shape, fields)
        reading = _reading(data, shape, fields)
        train_table = load_table(train, "train", **reading) if train is not None else None
        eval_reading = {**reading, "fields": spec.eval_fields} if spec.eval_fields is not None else reading
        eval_table = (_read_eval(eval, eval_reading if reading.get("shape") else None, spec.eval_max_bad_share)
                      if eval is not None else None)
        read = train_table or eval_table
        # The shape the user named is the one the data was read as; else the manifest's.
        shape = (read.shape if shape and read else None) or data.get("shape") or (read.shape if read else None)
        mapped: dict[str, Any] = {}
        if shape is None:
            raise UsageError("give --train or --eval (or an adapter whose manifest names its data shape)")
        labels = list(data.get("labels") or [])
        if get_shape(shape).labelled and not labels:
            labels = sorted({ex.label for t in (train_table, eval_table) if t for ex in t.examples})
        eval_examples = eval_table.examples if eval_table else []
        if eval_table is not None and eval_table.shape != shape:
            eval_examples, mapped = map_examples(eval_examples, eval_table.shape, shape, labels, eval_table.source)
        ctx = Context(pair=pair, shape=shape, labels=labels,
                      train=train_table.examples if train_table else [], eval=eval_examples,
                      prompt_template=config.get("prompt_template") or DEFAULT_PROMPT, system=config.get("system"),
                      max_seq_len=spec.max_seq_len, seed=int(gate.get("seed", 0)),
                      extra_prompts=extra_prompts, extra_probes=[str(p) for p in probes or []],
                      params={name: build(get_suite(name).Params, conf.get("params"), f"suites.{name}.params")
                              for name, conf in gate["suites"].items()})
        results: dict[str, Any] = {
            "schema": SCHEMA, "harness_version": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "base": pair.fingerprint.to_dict(),
            "adapter": {"path": str(adapter), "sha256": pair.adapter_sha256,
                        "trained_on": (manifest.get("base") or {}).get("weights_sha256"),
                        "manifest": bool(manifest)},
            "data": {"shape": shape, "labels": labels,
                     "train": _table_info(train_table), "eval": _table_info(eval_table, mapped)},
            "data_spec": spec.to_dict(),
            "policy": gate, "fast": fast, "suites": {}, "verdict": None}
        for name in chosen:
            suite = get_suite(name)()
            if on_suite:
                on_suite(name, "start")
            t0 = time.perf_counter()
            pair.running = name
            try:
                res = suite_result(suite.run(ctx, ctx.params[name]))
                # Measured: pass until the gate judges its metrics (harness/comparing/gate.py: apply).
                entry = {"status": SKIPPED if res.skipped is not None else PASS,
                         "reasons": [res.skipped] if res.skipped is not None else [], "error": None,
                         "traceback": None, "metrics": res.metrics, "info": res.info, "rows": res.rows}
            except HarnessError:
                raise  # bad input met inside a suite is the user's to fix: one line, exit 2 (as in the audit)
            except Exception as exc:  # a crashing suite is reported; the others still run (deepchecks)
                entry = {**crashed(exc, frames=6), "metrics": {}, "info": {}, "rows": []}
            entry.update(title=suite.title, why=suite.why, version=suite.version,
                         key_figures=list(suite.key_figures), limitations=list(suite.limitations),
                         **declarations(type(suite)),
                         seconds=round(time.perf_counter() - t0, 2),
                         items=pair.items_of(name))
            results["suites"][name] = plain(entry)
            if on_suite:
                on_suite(name, "measured" if entry["status"] == PASS else entry["status"])
        results["verdict"] = apply(results, gate)
        results["cache"] = {"hits": pair.cache.hits, "misses": pair.cache.misses,
                            "path": str(pair.cache.path) if pair.cache.path else None}
        results["seconds"] = round(time.perf_counter() - started, 2)
    finally:
        pair.close()
    return results


def suite_result(res: Any) -> SuiteResult:
    """A suite's return as a SuiteResult; a plug-in written to the first contract returned a dict
    ({metrics, info, rows}, `info.applicable: false` when it did not apply), read the same way."""
    if isinstance(res, SuiteResult):
        return res
    if not isinstance(res, Mapping):
        raise TypeError(f"a suite's run must return a SuiteResult, got {type(res).__name__}")
    info = dict(res.get("info") or {})
    skipped = (info.get("reason") or "does not apply") if info.get("applicable") is False else None
    return SuiteResult(metrics=dict(res.get("metrics") or {}), info=info, rows=list(res.get("rows") or []),
                       skipped=skipped)


def _reading(data: Mapping[str, Any], shape: str | None, fields: Mapping[str, str] | None) -> dict[str, Any]:
    """How to read the data: as the adapter's training read it (the manifest's shape, field mapping and
    source format), with the user's `shape` and `fields` over it."""
    reading = dict((data.get("train") or {}).get("read_with") or {"shape": data.get("shape"), "fields": {}})
    return {"shape": shape or reading.get("shape"), "fields": {**(reading.get("fields") or {}), **(fields or {})}}


def _read_eval(eval: Any, reading: dict[str, Any] | None, limit: float = DataSpec.eval_max_bad_share) -> Any:
    """The eval set in the adapter's shape (and field mapping) when it reads as such; else in its own
    shape (mapped onto the adapter's task afterwards, harness/inputs/eval_shapes.py). Neither: the first
    reading's one-line reason."""
    try:
        return load_table(eval, "eval", **(reading or {}), max_bad_share=limit)
    except InputError as first:
        if reading is None:
            raise
        try:
            return load_table(eval, "eval", max_bad_share=limit)
        except (InputError, UsageError):
            raise first from None


def _table_info(table, mapped: dict[str, Any] | None = None) -> dict[str, Any] | None:
    if table is None:
        return None
    return {"path": table.source, "sha256": table.sha256, "rows": len(table.examples), "bad_rows": len(table.bad_rows),
            "shape": table.shape, **({"mapped": mapped} if mapped else {})}
