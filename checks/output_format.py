"""A fine-tune learns the format of its answers as surely as their content: a few answers in prose
among JSON ones, a renamed key, a date written another way, teach the model to do the same now and
then. The dominant format is learned from the data itself (harness/inputs/output_kinds.py); what departs
from it is a finding, with the share that makes it a minority."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import partial

from harness.inputs.output_kinds import common_line_rows, family, final_line, multi_line, parse_json, pattern_of, value_kind

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

    def judge(self, answers, params: OutputFormat.Params, count=None) -> CheckResult:
        dominant_share, rare = params.dominant_share, params.rare_share
        profile = answers.count(_profile, first=3)
        families = {k[1]: v for k, v in profile.items() if k[0] == "family"}
        order = sorted(families, key=lambda f: (-families[f][0], families[f][1][0]["line"]))
        fam_rows = {f: families[f][0] for f in order}
        n = sum(fam_rows.values())
        top = order[0]
        share = fam_rows[top] / n
        # A final line most prose answers share (GSM8K's "#### <num>"): answers without it.
        pattern, pattern_share = None, 0.0
        prose = sum(fam_rows.get(f, 0) for f in TEXT)
        multi = profile.get(("multi",), (0,))[0]
        if top in TEXT and prose >= params.min_rows and multi >= max(2, dominant_share * prose):
            lines = answers.count(_final_lines, common_line_rows(multi, dominant_share), first=1)
            best = min(lines.items(), key=lambda kv: (-kv[1][0], kv[1][1][0]["line"]), default=None)
            pattern, pattern_share = pattern_of(prose, multi, best[0][1] if best else None,
                                                best[1][0] if best else 0, dominant_share)
        # JSON objects: key sets and the kind of each key's values.
        objects = fam_rows.get("json object", 0)
        key_info: dict[str, dict] = {}
        keys: dict[str, int] = {}
        mains: dict[str, tuple[str, float]] = {}
        if objects >= params.min_rows and top == "json object":
            keys = {k[1]: c for k, (c, _) in profile.items() if k[0] == "key"}
            kinds: dict[str, dict[str, int]] = defaultdict(dict)
            for k, (c, _) in sorted(profile.items(), key=lambda kv: str(kv[0])):
                if k[0] == "kind":
                    kinds[k[1]][k[2]] = c
            for k, c in kinds.items():
                key_info[k] = {"rows": keys[k], "kinds": c}
                typed = sorted(((x, kind) for kind, x in c.items() if kind != "null"), key=lambda t: (-t[0], t[1]))
                total = sum(x for x, _ in typed)
                if total and typed[0][0] / total >= dominant_share:
                    mains[k] = (typed[0][1], typed[0][0] / total)
        model = {"top": top, "share": share, "dominant_share": dominant_share, "rare": rare, "n": n,
                 "families": fam_rows, "pattern": pattern, "pattern_share": pattern_share, "objects": objects,
                 "keys": keys, "usual": sorted(k for k, c in keys.items() if c / objects >= 1 - rare), "mains": mains}
        hits = answers.scan(partial(_flags, model))
        findings = [{"rows": [ref], **f} for ref, found in hits for f in found]
        kinds_found = Counter(f["kind"] for f in findings)
        limit = params.max_findings
        return CheckResult(
            summary={"outputs": n, "dominant_family": top, "dominant_share": round(share, 4),
                     "json_parse_rate": round((fam_rows.get("json object", 0) + fam_rows.get("json array", 0)) / n, 4),
                     "minority_format_rows": kinds_found["minority_format"], "final_line_rows": kinds_found["final_line"],
                     "key_drift_rows": kinds_found["key_drift"], "type_drift_rows": kinds_found["type_drift"],
                     "flagged_rows": len(hits), "flagged_rate": len(hits) / n},
            findings=findings[:limit],
            info={"families": {f: {"rows": fam_rows[f], "examples": families[f][1]} for f in order},
                  "final_line": pattern, "keys": key_info,
                  "listed": min(limit, len(findings)), **unlisted_rows(findings, limit)})


def _profile(text: str, out: str) -> list[tuple]:
    """An answer's figures: its format family, whether it has several lines, a JSON object's keys and
    the kind of each value."""
    fam = family(out)
    got: list[tuple] = [("family", fam)]
    if fam in TEXT and multi_line(out):
        got.append(("multi",))
    if fam == "json object":
        for k, v in parse_json(out).items():
            got += [("key", k), ("kind", k, value_kind(v))]
    return got


def _final_lines(text: str, out: str) -> list[tuple]:
    return [("final", final_line(out))] if family(out) in TEXT and multi_line(out) else []


def _flags(model: dict, text: str, out: str) -> list[dict] | None:
    """What departs from the set's formats in one answer, as findings (without their rows)."""
    f, top, share = family(out), model["top"], model["share"]
    found = []
    # Prose and lists are both written answers: steps as a list among prose replies is a variant of the
    # content, a format only when it is rare (below rare_share). Empty outputs: the length check's finding.
    if share >= model["dominant_share"] and f not in (top, "empty") and not (
            f in TEXT and top in TEXT and model["families"][f] / model["n"] >= model["rare"]):
        found.append({"kind": "minority_format", "message": f"{f} where {_pct(share)} of outputs are {top}", "family": f})
    pattern = model["pattern"]
    if pattern is not None and f in TEXT and final_line(out) != pattern:
        found.append({"kind": "final_line", "message": f"does not end with the final line '{pattern}' that "
                                                       f"{_pct(model['pattern_share'])} of answers end with",
                      "pattern": pattern})
    if model["usual"] or model["mains"] or model["keys"]:
        obj = parse_json(out) if f == "json object" else None
        if obj is not None:
            keys, m, rare, usual = model["keys"], model["objects"], model["rare"], model["usual"]
            missing = sorted(set(usual) - set(obj))
            extra = sorted(k for k in obj if keys[k] / m < rare)
            if missing or extra:
                folded = {_fold(k): k for k in missing}
                renamed = [f"{k} for {folded[_fold(k)]}" for k in extra if _fold(k) in folded]
                parts = ([f"renamed key {', '.join(renamed)}"] if renamed else []) + \
                        ([f"missing {', '.join(missing)}"] if missing and not renamed else []) + \
                        ([f"unusual key {', '.join(k for k in extra if _fold(k) not in folded)}"]
                         if any(_fold(k) not in folded for k in extra) else [])
                found.append({"kind": "key_drift", "message": "; ".join(parts) + f" (the usual keys: {', '.join(usual)})",
                              "missing": missing, "extra": extra})
            for k, v in obj.items():
                if k in model["mains"]:
                    main, main_share = model["mains"][k]
                    if value_kind(v) not in (main, "null"):
                        found.append({"kind": "type_drift", "message": f"{k} is {value_kind(v)} ({_short(v)}) where "
                                                                       f"{main_share:.0%} of its values are {main}", "key": k})
    return found or None


TEXT = ("prose", "list")


def _pct(share: float) -> str:
    """99.99% stays 99.99%, not "100%": a share that rounds up hides the rows it is about."""
    return f"{share:.0%}" if share < 0.995 else f"{share:.2%}"


def _fold(key: str) -> str:
    return "".join(ch for ch in key.lower() if ch.isalnum())


def _short(value) -> str:
    s = repr(value)
    return s if len(s) <= 40 else s[:37] + "..."
