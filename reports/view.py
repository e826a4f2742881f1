"""From the JSON results alone (audit.json, an adapter's manifest.json, compare's results.json) to one
plain view dict that the HTML and Markdown renderers share: verdict and reasons, data card,
checklist, checks, training, suites. No computation reaches back into the harness, and no check or
suite is looked up by name: each entry carries what its plug-in declared (harness/core/declarations.py):
the charts it feeds, the checklist questions it answers, the parts that read its info in their layout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.core.declarations import QUESTIONS, answering, at, feeding
from harness.core.errors import InputError
from harness.core.results import ADAPTER_SCHEMA, AUDIT_SCHEMAS, COMPARE_SCHEMAS, audit_reasons, check_error, compare_reasons
from harness.core.status import ERROR, SKIPPED, entry_status, measured, rank, skip_reason

from .compare_format import per_side, task_rules_line

# Every results version a report reads: the first one's status words are read as today's (harness/core/status.py).
SCHEMAS = {**dict.fromkeys(AUDIT_SCHEMAS, "audit"), ADAPTER_SCHEMA: "manifest", **dict.fromkeys(COMPARE_SCHEMAS, "compare")}
MAX_FINDINGS = 5
MAX_ROWS_PER_FINDING = 6
RESULT_FILES = ("audit.json", "results.json", "manifest.json")  # what a directory given is read for


def load_results(paths: list[str | Path]) -> dict[str, dict]:
    """Read result files (or an adapter / output directory holding one) by their schema."""
    docs: dict[str, dict] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = [path / n for n in RESULT_FILES if (path / n).is_file()]
            if not found:
                raise InputError(path, "no audit.json, results.json or manifest.json in this directory")
        else:
            found = [path]
        for f in found:
            try:
                doc = json.loads(f.read_text(encoding="utf-8"))
            except FileNotFoundError:
                raise InputError(f, "no such file") from None
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise InputError(f, f"not a JSON results file: {exc}") from None
            kind = SCHEMAS.get(doc.get("schema")) if isinstance(doc, dict) else None
            if kind is None:
                raise InputError(f, f"unknown results schema {doc.get('schema') if isinstance(doc, dict) else None!r}; "
                                    f"expected one of {', '.join(SCHEMAS)}")
            docs[kind] = doc
    return docs


def where(audit: dict, ref: dict) -> str:
    path = audit.get("inputs", {}).get(ref.get("split"), {}).get("path", ref.get("split", "?"))
    return f"{path}:{ref.get('line', '?')}"


def build(docs: dict[str, dict]) -> dict[str, Any]:
    audit, manifest, compare = docs.get("audit"), docs.get("manifest"), docs.get("compare")
    verdicts, reasons = [], []
    if audit:
        verdicts.append(audit["verdict"])
        reasons += [f"audit · {line}" for line in audit_reasons(audit)]
    if compare:
        verdicts.append(compare["verdict"])
        reasons += [f"gate · {line}" for line in compare_reasons(compare)]
    verdict = max(verdicts, key=rank) if verdicts else "none"
    return {"verdict": verdict, "reasons": reasons, "audit": _audit(audit, docs.get("row_text") or {}) if audit else None,
            "training": _training(manifest) if manifest else None, "compare": _compare(compare) if compare else None,
            "checklist": _checklist(audit, manifest, compare), "limitations": _limitations(audit, compare)}


def row_line(parts: dict[str, str] | None) -> str | None:
    """A flagged row's texts (harness/inputs/row_text.py: masked, shortened) on one line: input → answer, and a
    preference row's rejected answer after ✗; a row the schema refused as written."""
    if not parts:
        return None
    if "raw" in parts:
        return parts["raw"]
    return " → ".join(parts[k] for k in ("input", "answer") if k in parts) + \
        (f" ✗ {parts['rejected']}" if "rejected" in parts else "")


def _audit(a: dict, texts: dict[str, dict[str, str]]) -> dict[str, Any]:
    """texts: "split:line" -> the row's texts (masked, shortened), when the application read them back."""
    checks = []
    for c in a["checks"]:
        findings = []
        for f in c.get("findings", [])[:MAX_FINDINGS]:
            refs = f.get("rows", [])
            shown = refs[:MAX_ROWS_PER_FINDING]
            findings.append({"message": f.get("message", ""), "where": [where(a, r) for r in shown],
                             "rows": [{"where": where(a, r), "text": row_line(texts.get(f"{r.get('split')}:{r.get('line')}"))}
                                      for r in shown] if any(f"{r.get('split')}:{r.get('line')}" in texts for r in shown) else [],
                             "more_rows": max(0, len(refs) - MAX_ROWS_PER_FINDING),
                             "extra": {k: v for k, v in f.items() if k in ("similarity", "score", "token", "label", "kind", "preview")}})
        figures = {k: v for k, v in c.get("summary", {}).items() if isinstance(v, (int, float, str, bool)) or v is None}
        status = entry_status(c)
        checks.append({"name": c["check"], "title": c.get("title", c["check"]), "status": status,
                       "reasons": [skip_reason(c)] if status == SKIPPED else c.get("reasons", []),
                       "figures": figures, "findings": findings, "total_findings": len(c.get("findings", [])),
                       "error": check_error(c) if status == ERROR else None})
    return {"inputs": a.get("inputs", {}), "checks": checks, "charts": charts(a["checks"]), "verdict": a["verdict"],
            "row_text": bool(texts),
            "created": a.get("created"), "version": a.get("harness_version")}


def _training(m: dict) -> dict[str, Any]:
    losses = [(x["step"], x["loss"]) for x in m.get("losses", [])]
    evals = []
    for e in m.get("evals", []):
        steps = [x["step"] for x in m.get("losses", []) if x.get("epoch") == e["epoch"] - 1]
        if "eval_loss" in e and steps:
            evals.append((max(steps), e["eval_loss"]))
    return {"base": m.get("base", {}), "data": m.get("data", {}), "config": m.get("config", {}),
            "evals": m.get("evals", []), "steps": m.get("steps"), "audit_verdict": m.get("audit_verdict"),
            "series": {"training loss": losses, "eval loss": evals}, "wall_seconds": m.get("wall_seconds")}


def _compare(r: dict) -> dict[str, Any]:
    suites = []
    for name, s in r["suites"].items():
        suites.append({"name": name, "title": s.get("title", name), "why": s.get("why", ""), "status": entry_status(s),
                       "error": s.get("error"), "reason": s.get("info", {}).get("reason"),
                       "metrics": s.get("metrics", {}), "rows": s.get("rows", [])[:20], "total_rows": len(s.get("rows", [])),
                       "cost": _cost(s), "headline": s.get("info", {}).get("headline")})
    entries = list(r["suites"].values())
    # The worth-it layout (harness/core/declarations.py: FEEDS): info.table, info.worth_it, info.metric, info.k.
    baselines = feeding(entries, "worth_it").get("info") or {}
    worth = None
    if baselines.get("table"):
        worth = {"sentence": (baselines.get("worth_it") or {}).get("sentence"), "table": baselines["table"],
                 "metric": baselines.get("metric", "accuracy"), "k": baselines.get("k")}
    return {"verdict": r["verdict"], "base": r["base"], "adapter": r["adapter"], "data": r.get("data", {}),
            "suites": suites, "charts": charts(entries), "created": r.get("created"), "seconds": r.get("seconds"),
            "gate_reasons": r.get("gate_reasons", []), "warnings": r.get("warnings", []), "worth": worth,
            "multiplicity": [f["method"] for f in (r.get("multiplicity") or {}).values() if f.get("level")],
            "task_rules": task_rules_line(r), "hidden_regression": _hidden_regression(feeding(entries, "hidden_regression"))}


def _cost(s: dict) -> str | None:
    """'12.3 s; 200 items per side scored (40 from the cache); a sample of 100 of 200 rows, ...'."""
    if s.get("seconds") is None:
        return None
    items = s.get("items") or {}
    text = f"{s['seconds']:.1f} s"
    if per_side(items):
        text += f"; {per_side(items)} items scored" + (f" ({items['cached']} from the cache)" if items.get("cached") else "")
    sampled = (s.get("info") or {}).get("sampled")
    if sampled:
        text += f"; {sampled['how']}"
    return text


def charts(entries: list[dict]) -> list[dict[str, Any]]:
    """Every chart the entries' plug-ins declare (harness/core/declarations.py: Chart) that has data to draw,
    in the charts' declared order: {kind, title, alt, data, color}."""
    out = []
    for entry in entries:
        for spec in entry.get("charts") or []:
            data = _chart_data(entry, spec)
            if data:
                out.append({"kind": spec["kind"], "title": spec["title"], "alt": spec.get("alt") or spec["title"],
                            "data": data, "color": spec.get("color"), "order": spec.get("order", 1000)})
    return sorted(out, key=lambda c: c["order"])


def _chart_data(entry: dict, spec: dict) -> Any:
    """A declared chart's figures read from its entry, in the form its kind draws (None: nothing to draw)."""
    data, kind = at(entry, spec["data"]), spec["kind"]
    if kind == "bars":
        if spec.get("sizes"):
            sizes: dict[int, int] = {}
            for item in data if isinstance(data, list) else []:
                n = len(item.get(spec["sizes"]) or [])
                sizes[n] = sizes.get(n, 0) + 1
            bars = [(f"{n} {spec['sizes']}", sizes[n]) for n in sorted(sizes)]
        elif isinstance(data, dict):
            bars = [(k, v) for k, v in data.items() if v is not None]
        elif isinstance(data, list) and spec.get("value"):
            bars = [(row.get(spec.get("label", ""), ""), row[spec["value"]]) for row in data
                    if isinstance(row, dict) and spec["value"] in row]
        else:
            return None
        if spec.get("largest_first"):
            bars.sort(key=lambda kv: -kv[1])
        return bars[:spec["limit"]] if spec.get("limit") else bars
    if kind == "histogram":
        if not isinstance(data, dict) or not data:
            return None
        marker = spec.get("marker") or ""
        return {"counts": data["counts"], "edges": data["edges"], "marker": at(entry, marker) if marker else None,
                "marker_label": marker.rsplit(".", 1)[-1]}
    if kind == "intervals":
        suffix, rows = spec.get("suffix", ""), []
        for k, m in (data if isinstance(data, dict) else {}).items():
            if k.endswith(suffix) and isinstance(m, dict) and m.get("base") is not None:
                iv = m.get("interval") or [None, None]
                rows.append({"label": k[:len(k) - len(suffix)], "base": m["base"], "tuned": m["tuned"],
                             "low": None if iv[0] is None else m["base"] + iv[0],
                             "high": None if iv[1] is None else m["base"] + iv[1]})
        return rows
    return data  # reliability: the curves as the plug-in wrote them


def _hidden_regression(slices: dict) -> str | None:
    """'The average rose while a slice fell' in words, when the gate flagged a slice. The slices layout
    (harness/core/declarations.py: FEEDS): metrics worst.* and per slice, info.overall.delta."""
    overall = (slices.get("info") or {}).get("overall") or {}
    flagged = [m for k, m in (slices.get("metrics") or {}).items() if not k.startswith("worst.")
               and m.get("status") in ("warn", "fail")]
    worst = next((m for k, m in (slices.get("metrics") or {}).items() if k.startswith("worst.")), None)
    if not worst or worst.get("status") not in ("warn", "fail") or (overall.get("delta") or 0) <= 0:
        return None
    lo, hi = worst.get("interval") or (None, None)
    span = f" (95% interval {lo:+.3f} to {hi:+.3f})" if lo is not None else ""
    more = f"; {len(flagged)} slices flagged in all" if len(flagged) > 1 else ""
    return (f"The average rose by {overall['delta']:+.3f}, but slice {worst.get('slice')} fell by "
            f"{worst['delta']:+.3f}{span}, n={worst.get('n')}{more}.")


def _checklist(audit: dict | None, manifest: dict | None, compare: dict | None) -> list[dict[str, str]]:
    """The questions a careful team asks before fine-tuning (harness/core/declarations.py: QUESTIONS), each
    answered by the checks and suites whose entries declare they answer it; a question in a plug-in's
    own words comes last, answered by its figure."""
    checks = list(audit["checks"]) if audit else []
    suites = list(compare["suites"].values()) if compare else []
    out = []

    def add(q: str, answer: str, evidence: str) -> None:
        out.append({"question": QUESTIONS.get(q, q), "answer": answer, "evidence": evidence})

    # task_defined and per_class read a label-count layout: info.train {label: rows}, summary.classes and
    # summary.rarest_label (what a check that counts labels writes).
    defined = _first(checks, "task_defined")
    if defined is not None:
        counts = defined.get("info", {}).get("train") or {}
        add("task_defined", "yes" if counts else "unknown",
            f"{defined.get('summary', {}).get('classes', len(counts))} labels" if counts
            else "not a classification set; read the data card")
    elif audit:
        add("task_defined", "unknown", f"{audit['inputs'].get('train', {}).get('shape', '?')} data")
    per_class = _first(checks, "per_class")
    if per_class is not None:
        counts = per_class.get("info", {}).get("train") or {}
        low = min(counts.values()) if counts else 0
        add("per_class", "yes" if low >= 50 else "no",
            f"rarest class {per_class.get('summary', {}).get('rarest_label')!s} has {low} rows (50+ is a common floor)")
    if answering(checks, "labelling"):
        add("labelling", *_counted(answering(checks, "labelling")))
    if audit:
        add("clean_eval", *_leakage_answer(audit, {c["check"]: c for c in checks}))
    if compare:
        task = _first(suites, "evaluated") or {}
        add("evaluated", "yes" if measured(task) else "no",
            ", ".join(f"{k} {m.get('base', 0):.3f} -> {m.get('tuned', 0):.3f}" for k, m in task.get("metrics", {}).items()
                      if m.get("base") is not None) or task.get("info", {}).get("reason", "task suite not run"))
        # The worth-it layout: info.worth_it {beats_best_baseline, sentence}.
        worth = ((_first(suites, "beats_prompting") or {}).get("info") or {}).get("worth_it") or {}
        if worth.get("beats_best_baseline") is not None:
            add("beats_prompting", "yes" if worth["beats_best_baseline"] else "no", worth.get("sentence", ""))
        else:
            add("beats_prompting", "unknown", "prompting baselines not measured")
        # info.confident_wrong rows at or above info.confident_threshold.
        cal = _first(suites, "confident_wrong") or {}
        add("confident_wrong", "yes" if measured(cal) else "no",
            f"{cal.get('info', {}).get('confident_wrong', '?')} held-out rows wrong with confidence >= "
            f"{cal.get('info', {}).get('confident_threshold', '?')}" if measured(cal) else "calibration not measured")
    if manifest or audit:
        documented = bool(manifest and manifest.get("data", {}).get("train", {}).get("sha256"))
        add("Training data documented?", "yes" if documented or audit else "no",
            "the manifest records the data's sha256 and row counts" if documented else
            "the audit's data card records sources, sizes and hashes")
    if answering(checks + suites, "personal_data"):
        add("personal_data", *_counted(answering(checks + suites, "personal_data")))
    own = [a["question"] for e in checks + suites for a in e.get("answers") or [] if a.get("question") not in QUESTIONS]
    for question in dict.fromkeys(own):
        add(question, *_counted(answering(checks + suites, question)))
    return out


def _first(entries: list[dict], question: str) -> dict | None:
    """The first entry that answers `question` (None: none ran)."""
    found = answering(entries, question)
    return found[0][0] if found else None


def _counted(answers: list[tuple[dict, dict]]) -> tuple[str, str]:
    """(answer, evidence) from figures that count what stands against a yes: yes when each is 0 (or was not
    measured: shown as ?), e.g. "12 conflicting groups, ? likely label errors"."""
    parts = [(at(entry, a.get("figure", "")), a.get("says", "")) for entry, a in answers]
    return ("yes" if all(n in (0, None) for n, _ in parts) else "no",
            ", ".join(f"{'?' if n is None else n} {says}" for n, says in parts))


def _limitations(audit: dict | None, compare: dict | None) -> list[str]:
    """What the checks and suites that ran say their figures cannot show (each plug-in declares its own)."""
    entries = list((audit or {}).get("checks", [])) + list(((compare or {}).get("suites") or {}).values())
    out: list[str] = []
    for entry in entries:
        out += [x for x in entry.get("limitations") or [] if measured(entry) and x not in out]
    return out


def _leakage_answer(audit: dict, by: dict) -> tuple[str, str]:
    """(answer, evidence) for "clean of leakage?" from the audit's check entries (`by`, by name) that
    answer it: every leak-like figure counts — exact, near and n-gram leaks, reworded eval rows — and eval
    rows that could not be read leave it unknown rather than clean."""
    inputs = audit.get("inputs", {})
    if "eval" not in inputs:
        return "no", "no eval set given"
    answers = answering(by.values(), "clean_eval")
    found = [f"{n} {a.get('says', '')}" for n, a in ((at(e, a.get("figure", "")) or 0, a) for e, a in answers) if n]
    unread = (inputs["eval"].get("bad_rows", 0) or 0) - sum((inputs["eval"].get("read_in_own_shape") or {}).values())
    if found:
        return "no", "; ".join(found) + (f"; {unread} eval rows not read" if unread else "")
    if unread:
        return "unknown", f"{unread} eval rows could not be read in the training data's shape: not checked"
    if not answers:
        return "unknown", "the leakage check did not run"
    return "yes", "0 eval rows found in train or reworded from it"
