"""A fine-tune learns the format of its answers as surely as their content: a few answers in prose
among JSON ones, a renamed key, a date written another way, teach the model to do the same now and
then. The dominant format is learned from the data itself (harness/inputs/output_kinds.py); what departs
from it is a finding, with the share that makes it a minority."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from harness.inputs.output_kinds import family, final_line, final_line_pattern, parse_json, value_kind

from .base import CheckResult, GenerativeCheck, Params, lower_is_better, param, register, unlisted_rows


@register
class OutputFormat(GenerativeCheck):
    name = "output_format"
    removes = "all"
    order = 92
    key_figures = ("dominant_family", "dominant_share", "flagged_rows")
    title = "Output format consistency"
    why = "Answers in a minority format (prose among JSON, renamed keys, dates written two ways) teach the model to drift."
    metrics = {**lower_is_better("flagged_rows", "flagged_rate", "minority_format_rows", "final_line_rows",
                                 "key_drift_rows", "type_drift_rows"),
               "json_parse_rate": None}  # the share of outputs that are JSON: described, neither way is better

    # Measured on examples/orders (examples/make_orders.py) and GSM8K (bench/real/, judged samples).
    @dataclass(frozen=True)
    class Params(Params):
        dominant_share: float = param(0.8, "0..1", "a format (or a key's value kind) is the set's when this share of outputs has it")
        rare_share: float = param(0.05, "0..1", "a JSON key in fewer than this share of objects is unusual; in more than 1 - this, usual")
        min_rows: int = param(10, ">=1", "fewer outputs of a format than this: no format is learned from them")
        max_findings: int = param(500, ">=0", "flagged rows listed (all are counted)")

    def judge(self, rows: list[tuple[dict, str, str]], params: OutputFormat.Params, count=None) -> CheckResult:
        """rows: (ref, input, output) of the training split."""
        n = len(rows)
        dominant_share = params.dominant_share
        rare = params.rare_share
        fams = [family(out) for _, _, out in rows]
        counts = Counter(fams)
        top, top_n = counts.most_common(1)[0]
        findings: list[dict] = []
        flagged: set[int] = set()
        minority = final_rows = key_rows = type_rows = 0

        def flag(i: int, kind: str, message: str, **extra) -> None:
            flagged.add(i)
            findings.append({"rows": [rows[i][0]], "kind": kind, "message": message, **extra})

        share = top_n / n
        if share >= dominant_share:
            for i, f in enumerate(fams):
                if f == top or f == "empty":  # empty outputs: the length check's finding
                    continue
                # Prose and lists are both written answers: steps as a list among prose replies is a
                # variant of the content, a format only when it is rare (below rare_share).
                if f in TEXT and top in TEXT and counts[f] / n >= rare:
                    continue
                minority += 1
                flag(i, "minority_format", f"{f} where {_pct(share)} of outputs are {top}", family=f)
        # A final line most prose answers share (GSM8K's "#### <num>"): answers without it.
        prose = [i for i, f in enumerate(fams) if f in TEXT]
        pattern = None
        if top in TEXT and len(prose) >= params.min_rows:
            pattern, pattern_share = final_line_pattern([rows[i][2] for i in prose], dominant_share)
            if pattern is not None:
                for i in prose:
                    if final_line(rows[i][2]) != pattern:
                        final_rows += 1
                        flag(i, "final_line", f"does not end with the final line '{pattern}' that "
                                              f"{_pct(pattern_share)} of answers end with", pattern=pattern)
        # JSON objects: key sets and the kind of each key's values.
        objects = {i: parse_json(rows[i][2]) for i, f in enumerate(fams) if f == "json object"}
        key_info: dict[str, dict] = {}
        if len(objects) >= params.min_rows and top == "json object":
            key_counts = Counter(k for obj in objects.values() for k in obj)
            m = len(objects)
            usual = {k for k, c in key_counts.items() if c / m >= 1 - rare}
            for i, obj in objects.items():
                missing = sorted(usual - set(obj))
                extra = sorted(k for k in obj if key_counts[k] / m < rare)
                if not missing and not extra:
                    continue
                folded = {_fold(k): k for k in missing}
                renamed = [f"{k} for {folded[_fold(k)]}" for k in extra if _fold(k) in folded]
                parts = ([f"renamed key {', '.join(renamed)}"] if renamed else []) + \
                        ([f"missing {', '.join(missing)}"] if missing and not renamed else []) + \
                        ([f"unusual key {', '.join(k for k in extra if _fold(k) not in folded)}"]
                         if any(_fold(k) not in folded for k in extra) else [])
                key_rows += 1
                flag(i, "key_drift", "; ".join(parts) + f" (the usual keys: {', '.join(sorted(usual))})",
                     missing=missing, extra=extra)
            kinds: dict[str, Counter] = defaultdict(Counter)
            for obj in objects.values():
                for k, v in obj.items():
                    kinds[k][value_kind(v)] += 1
            for k, c in kinds.items():
                typed = {kind: x for kind, x in c.items() if kind != "null"}
                total = sum(typed.values())
                key_info[k] = {"rows": key_counts[k], "kinds": dict(c)}
                if not total:
                    continue
                main, main_n = max(typed.items(), key=lambda kv: kv[1])
                if main_n / total < dominant_share:
                    continue
                for i, obj in objects.items():
                    if k in obj and value_kind(obj[k]) not in (main, "null"):
                        type_rows += 1
                        flag(i, "type_drift", f"{k} is {value_kind(obj[k])} ({_short(obj[k])}) where "
                                              f"{main_n / total:.0%} of its values are {main}", key=k)
        limit = params.max_findings
        findings.sort(key=lambda f: f["rows"][0]["line"])
        return CheckResult(
            summary={"outputs": n, "dominant_family": top, "dominant_share": round(share, 4),
                     "json_parse_rate": round(sum(f in ("json object", "json array") for f in fams) / n, 4),
                     "minority_format_rows": minority, "final_line_rows": final_rows, "key_drift_rows": key_rows,
                     "type_drift_rows": type_rows, "flagged_rows": len(flagged), "flagged_rate": len(flagged) / n},
            findings=findings[:limit],
            info={"families": {f: {"rows": c, "examples": [rows[i][0] for i, g in enumerate(fams) if g == f][:3]}
                               for f, c in counts.most_common()},
                  "final_line": pattern, "keys": key_info,
                  "listed": min(limit, len(findings)), **unlisted_rows(findings, limit)})


TEXT = ("prose", "list")


def _pct(share: float) -> str:
    """99.99% stays 99.99%, not "100%": a share that rounds up hides the rows it is about."""
    return f"{share:.0%}" if share < 0.995 else f"{share:.2%}"


def _fold(key: str) -> str:
    return "".join(ch for ch in key.lower() if ch.isalnum())


def _short(value) -> str:
    s = repr(value)
    return s if len(s) <= 40 else s[:37] + "..."
