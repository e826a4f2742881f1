"""Running the registered checks over loaded data, shared by both audit engines (in-process and Spark):
each enabled check runs, a crash becomes an `error` entry and the rest still run, one that does not apply a
`skipped` one, the policy decides each other status, and the audit.json dict comes out. Bad input met inside a check (a HarnessError) is the user's to
fix, not a crash: it stops the audit with its one-line message, as it does in compare."""

from __future__ import annotations

import re
import time
from typing import Any, Callable

from harness.checks import REGISTRY
from harness.core.declarations import declarations
from harness.core.errors import HarnessError
from harness.core.params import Params, build
from harness.auditing.policy import decide, verdict
from harness.core.redact import KINDS
from harness.core.results import AUDIT_SCHEMA, audit_reasons, crashed
from harness.core.status import SKIPPED
from harness.core.version import __version__


def masked_entry(entry: dict[str, Any], kinds: tuple, tokens: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A check's entry with every string (keys too) masked where the pii recognisers find something, and
    every word that identifies a found value (`tokens`): a secret shown as a shortcut token, used as a
    label or copied in normalised form must not reach audit.json, the report or the terminal. One scan of
    the entry as JSON first: most entries hold nothing to mask and are returned as they are (walking every
    value of a 200k-row audit cost seconds)."""
    import json

    from harness.core.redact import find_pii

    flat = json.dumps(entry, ensure_ascii=False, default=str)
    if not find_pii(flat, kinds, any_case=True) and not (tokens and tokens & set(re.findall(r"\w+", flat.casefold()))):
        return entry
    return masked(entry, kinds, tokens)


def masked(obj: Any, kinds: tuple, tokens: frozenset[str] = frozenset()) -> Any:
    from harness.core.redact import mask_text

    if isinstance(obj, str):
        return mask_text(obj, kinds, tokens)
    if isinstance(obj, dict):
        return {masked(k, kinds, tokens) if isinstance(k, str) else k: masked(v, kinds, tokens) for k, v in obj.items()}
    if isinstance(obj, list):
        return [masked(v, kinds, tokens) for v in obj]
    return obj


def built_params(name: str, conf: dict[str, Any]) -> Params:
    """A check's parameters as its `run` gets them: its declaration's defaults, the policy entry's over them."""
    return build(REGISTRY[name].Params, conf.get("params"), f"policy: checks.{name}.params")


def run_checks(data: Any, pol: dict[str, Any], tables: dict[str, Any], started: float, engine: dict[str, Any],
               on_check: Callable[[str, dict], None] | None = None) -> dict[str, Any]:
    """Every enabled check on `data`, through the engine interface `data` implements (in process or
    on Spark: the check does not ask which)."""
    results = []
    tokens: frozenset[str] = frozenset()
    for name in REGISTRY.names():
        conf = pol["checks"].get(name, {})
        if not conf.get("enabled", True):
            continue
        t0 = time.perf_counter()
        cls = REGISTRY[name]
        check = cls()
        params = built_params(name, conf)  # a value the declaration refuses is the user's to fix, not a crash
        try:
            res = check.run(data, params)
            # Does not apply: skipped, with why (a result of the first contract says it in its summary).
            skipped = getattr(res, "skipped", None)
            status, reasons = (SKIPPED, [skipped]) if skipped is not None else decide(conf, res.summary)
            entry = {"check": name, "status": status, "reasons": reasons, "error": None, "traceback": None,
                     "summary": res.summary, "findings": res.findings, "info": res.info}
            tokens |= getattr(res, "redact", frozenset())
        except HarnessError:
            raise
        except Exception as exc:  # isolate: one broken check must not hide the others
            failure = crashed(exc)
            entry = {"check": name, **failure, "summary": {}, "findings": [],
                     "info": {"traceback": failure["traceback"]}}
        seconds = round(time.perf_counter() - t0, 3)
        entry.update(title=cls.title, key_figures=list(cls.key_figures), removes=cls.removes,
                     limitations=list(cls.limitations), **declarations(cls), seconds=seconds,
                     duration_s=seconds)
        results.append(entry)
        if on_check:
            on_check(name, entry)
    # Masking holds whether or not the pii check ran: its policy entry only chooses the kinds.
    kinds = tuple(built_params("pii", pol["checks"].get("pii", {})).kinds or KINDS)
    results = [masked_entry(entry, kinds, tokens) if entry["check"] != "pii" else entry for entry in results]
    seconds = round(time.perf_counter() - started, 3)
    doc = {
        "schema": AUDIT_SCHEMA,
        "harness_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "verdict": verdict([r["status"] for r in results], pol["on_error"]),
        "inputs": {split: t.card() for split, t in tables.items()},
        "label_source": data.label_source,
        "data_spec": data.spec.to_dict(),   # how the data was read: shape, fields, max_seq_len, ... (harness/inputs/data_spec.py)
        "policy": pol,
        "engine": engine,
        "checks": results,
        "seconds": seconds,
        "duration_s": seconds,
    }
    doc["reasons"] = audit_reasons({"checks": results})
    return doc
