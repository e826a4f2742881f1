"""slices: an average can rise while one kind of request gets worse.

The task metric (the task suite's rows and scores, from its cache: accuracy for a classifier, the
headline figure of the kind of output for generative tasks, e.g. field F1 for JSON) per label and per slice the user
defines: a field's value (`{field: channel}`, every value, or `values: [...]`) or a regular expression
on the input (`{name: refunds, regex: "refund|money back"}`). Each slice gets base, tuned, the paired
delta with its interval and McNemar p; `worst` is the slice whose delta is lowest. Slices with fewer than
`min_n` rows are listed but not measured: their deltas are noise. The suite only measures; the gate's
rule on `slices.worst.accuracy` (default: flag, not fail, a slice down by more than 0.1) decides.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.core.errors import UsageError
from harness.core.params import Params, param

from .base import HIGHER, Context, Suite, SuiteResult, not_applicable, register
from .task import correctness, paired_figure, task_rows


def slice_members(examples: list, spec: dict[str, Any], max_values: int) -> dict[str, list[int]]:
    """Slice name -> indices of `examples` in it, for one slice spec."""
    if not isinstance(spec, dict) or not (("field" in spec) ^ ("regex" in spec)):
        raise UsageError(f"slices: each slice is {{field: NAME}} or {{name: NAME, regex: PATTERN}}, got {spec!r}")
    unknown = set(spec) - {"name", "field", "values", "regex", "ignore_case"}
    if unknown:
        raise UsageError(f"slices: unknown key(s) {', '.join(sorted(unknown))} in {spec!r}")
    if "regex" in spec:
        try:
            pattern = re.compile(spec["regex"], re.IGNORECASE if spec.get("ignore_case", True) else 0)
        except re.error as exc:
            raise UsageError(f"slices: bad regular expression {spec['regex']!r}: {exc}") from None
        name = str(spec.get("name") or f"/{spec['regex']}/")
        return {name: [i for i, ex in enumerate(examples) if pattern.search(ex.input)]}
    fld = str(spec["field"])
    values = [ex.meta.get(fld) for ex in examples]
    if all(v is None for v in values):
        fields = sorted({k for ex in examples for k in ex.meta})
        raise UsageError(f"slices: no held-out row has the field {fld!r}"
                         + (f" (their other fields: {', '.join(fields)})" if fields else " (they have no other fields)"))
    wanted = [str(v) for v in spec["values"]] if spec.get("values") else \
        [v for v, _ in Counter(str(v) for v in values if v is not None).most_common(max_values)]
    prefix = str(spec.get("name") or fld)
    return {f"{prefix}={v}": [i for i, x in enumerate(values) if x is not None and str(x) == v] for v in wanted}


@dataclass(frozen=True)
class SlicesParams(Params):
    by_label: bool = param(True, "", "one slice per label (classification)")
    slices: list[dict] = param([], "", "more slices: {field: channel} (one per value) or {name: x, regex: \"...\"} on the input")
    min_n: int = param(10, ">=1", "a slice with fewer rows is listed, not tested")
    max_values: int = param(20, ">=1", "a field slices into at most this many values (the most frequent)")


@register
class SlicesSuite(Suite):
    name = "slices"
    order = 30
    feeds = ("hidden_regression",)
    title = "Slices"
    why = "A better average can hide a kind of request that got worse; per-slice deltas show it before users do."
    version = 1
    metrics = dict.fromkeys(("accuracy", "exact_match", "field_f1", "final_answer", "chrf", "preference_accuracy"), HIGHER)
    Params = SlicesParams

    def run(self, ctx: Context, params: SlicesParams) -> SuiteResult:
        if ctx.form.whole_text:
            return not_applicable("language-modelling rows: the task figure is the held-out loss, not sliced")
        rows = task_rows(ctx)
        if not rows:
            return not_applicable("no held-out rows (give --eval)")
        min_n = params.min_n
        done = correctness(ctx, rows)
        examples, name = done["examples"], done["metric"]
        groups: dict[str, list[int]] = {}
        if params.by_label and ctx.form.labelled:
            for lab in ctx.labels:
                groups[f"label={lab}"] = [i for i, ex in enumerate(examples) if ex.label == lab]
        for spec in params.slices:
            groups.update(slice_members(examples, spec, params.max_values))
        overall = paired_figure(done["base"], done["tuned"], ctx.seed)
        metrics: dict[str, Any] = {}
        table = []
        for slice_name, idx in groups.items():
            entry = {"slice": slice_name, "n": len(idx), "share": round(len(idx) / max(len(examples), 1), 4)}
            if len(idx) >= min_n:
                m = paired_figure(done["base"][idx], done["tuned"][idx], ctx.seed)
                metrics[f"{slice_name}.{name}"] = {**m, "slice": slice_name, "share": entry["share"]}
                entry.update(base=m["base"], tuned=m["tuned"], delta=m["delta"], interval=m["interval"], p=m["p"])
            else:
                idx_a = np.asarray(idx, int)
                entry.update(base=float(done["base"][idx_a].mean()) if idx else None,
                             tuned=float(done["tuned"][idx_a].mean()) if idx else None, measured=False)
            table.append(entry)
        if metrics:
            worst = min(metrics.values(), key=lambda m: (m["delta"], m["interval"][0] if m["interval"] else 0))
            metrics[f"worst.{name}"] = dict(worst)
        regressed = [e["slice"] for e in table if e.get("delta") is not None and e["delta"] < 0]
        info = {"metric": name, "min_n": min_n, "overall": {k: overall[k] for k in ("base", "tuned", "delta", "interval")},
                "slices": table, "regressed": regressed,
                "too_small": [e["slice"] for e in table if e.get("measured") is False]}
        if not metrics:
            return not_applicable(f"no slice has {min_n} or more held-out rows", info)
        return SuiteResult(metrics=metrics, info=info)
