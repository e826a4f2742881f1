"""Score an audit of planted-defect data against its ground truth: recall and precision per check.

    harness audit examples/tickets/train.jsonl --eval examples/tickets/eval.jsonl \
        --policy examples/tickets/policy.yaml --out /tmp/a
    python examples/score_planted.py /tmp/a/audit.json examples/tickets/truth.json

    harness audit examples/orders/train.jsonl --eval examples/orders/eval.jsonl --out /tmp/o
    python examples/score_planted.py /tmp/o/audit.json examples/orders/truth.json

    harness audit examples/replies/train_chat.jsonl --eval examples/replies/eval_chat.jsonl --out /tmp/r
    python examples/score_planted.py /tmp/r/audit.json examples/replies/truth.json
"""

from __future__ import annotations

import json
import sys


def _findings(result: dict, check: str) -> list[dict]:
    for c in result["checks"]:
        if c["check"] == check:
            return c["findings"]
    raise KeyError(check)


def _lines(f: dict, split: str = "train") -> set[int]:
    return {r["line"] for r in f.get("rows", []) if r["split"] == split}


def _pair_recall(findings: list[dict], pairs: list[list[int]]) -> float:
    groups = [_lines(f) for f in findings]
    hit = sum(1 for a, b in pairs if any(a in g and b in g for g in groups))
    return hit / len(pairs) if pairs else 1.0


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def score(result: dict, truth: dict) -> dict[str, float]:
    """Per-check recall and precision against truth.json (tickets or orders, by what the truth holds)."""
    if "format_drift" in truth:
        return score_generative(result, truth)
    if "request" in truth:
        return score_copies(result, truth)
    out: dict[str, float] = {}
    related = {x for key in ("exact_duplicates", "near_duplicates", "conflicts") for p in truth[key] for x in p}
    exact = _findings(result, "exact_duplicates")
    out["exact_duplicates.recall"] = _pair_recall(exact, truth["exact_duplicates"])
    flagged = set().union(*(_lines(f) for f in exact)) if exact else set()
    out["exact_duplicates.precision"] = _ratio(len(flagged & related), len(flagged))

    near = _findings(result, "near_duplicates")
    out["near_duplicates.recall"] = _pair_recall(near, truth["near_duplicates"])
    flagged = set().union(*(_lines(f) for f in near)) if near else set()
    out["near_duplicates.precision"] = _ratio(len(flagged & related), len(flagged))

    conf = _findings(result, "label_conflicts")
    out["label_conflicts.recall"] = _pair_recall(conf, truth["conflicts"])
    good = sum(1 for f in conf if any(a in _lines(f) and b in _lines(f) for a, b in truth["conflicts"]))
    out["label_conflicts.precision"] = _ratio(good, len(conf))

    errs = _findings(result, "label_errors")
    flips = set(truth["label_flips"])
    problems = flips | {x for p in truth["conflicts"] for x in p}
    flagged = {r["line"] for f in errs for r in f["rows"]}
    out["label_errors.recall"] = _ratio(len(flagged & flips), len(flips))
    out["label_errors.precision"] = _ratio(len(flagged & problems), len(flagged))

    leaks = _findings(result, "leakage")
    planted = {leak["eval_line"] for leak in truth["leaks"]}
    flagged = {f["rows"][0]["line"] for f in leaks if f["rows"] and f["rows"][0]["split"] == "eval"}
    out["leakage.recall"] = _ratio(len(flagged & planted), len(planted))
    out["leakage.precision"] = _ratio(len(flagged & planted), len(flagged))

    pii = _findings(result, "pii")
    found = {(f["rows"][0]["line"], f["kind"]) for f in pii if f["rows"][0]["split"] == "train"}
    want = {(p["line"], p["kind"]) for p in truth["pii"]}
    out["pii.recall"] = _ratio(len(found & want), len(want))
    out["pii.precision"] = _ratio(len(found & want), len(found))

    sc = _findings(result, "shortcuts")
    target = truth["shortcut"]
    out["shortcuts.found"] = float(any(target["token"] in [f["token"], *f.get("aliases", [])] and f["label"] == target["label"] for f in sc))

    length = _findings(result, "length")
    truncated = {f["rows"][0]["line"] for f in length if f.get("kind") == "truncated" and f["rows"][0]["split"] == "train"}
    out["length.recall"] = _ratio(len(truncated & set(truth["long_rows"])), len(truth["long_rows"]))

    schema = _findings(result, "schema")
    bad = {f["rows"][0]["line"] for f in schema if f["rows"][0]["split"] == "train"}
    out["schema.recall"] = _ratio(len(bad & set(truth["bad_rows"])), len(truth["bad_rows"]))
    return out


def score_generative(result: dict, truth: dict) -> dict[str, float]:
    """The generative examples (examples/make_orders.py, make_replies.py): the generative checks,
    conflicts and leakage."""
    out: dict[str, float] = {}
    boiler = {b["line"] for b in truth["boilerplate"]}
    planted = {
        "output_format": ({d["line"] for d in truth["format_drift"]},
                          # a disclaimer, a refusal, a signature or a cut-off answer changes the format too
                          {d["line"] for d in truth["format_drift"]} | boiler | set(truth["truncated"])),
        "truncation": (set(truth["truncated"]), set(truth["truncated"])),
        "unsupported_values": ({u["line"] for u in truth["unsupported"]}, {u["line"] for u in truth["unsupported"]}),
        # canned answers planted as format drift (the replies' bullet lists) repeat across prompts too
        "boilerplate": (boiler, boiler | {d["line"] for d in truth["format_drift"]}),
    }
    for check, (want, allowed) in planted.items():
        flagged = set().union(*(_lines(f) for f in _findings(result, check))) if _findings(result, check) else set()
        out[f"{check}.recall"] = _ratio(len(flagged & want), len(want))
        out[f"{check}.precision"] = _ratio(len(flagged & allowed), len(flagged))
    conf = _findings(result, "label_conflicts")
    out["label_conflicts.recall"] = _pair_recall(conf, truth["conflicts"])
    good = sum(1 for f in conf if any(a in _lines(f) and b in _lines(f) for a, b in truth["conflicts"]))
    out["label_conflicts.precision"] = _ratio(good, len(conf))
    leaks = _findings(result, "leakage")
    want = {leak["eval_line"] for leak in truth["leaks"]}
    flagged = {f["rows"][0]["line"] for f in leaks if f["rows"] and f["rows"][0]["split"] == "eval"}
    out["leakage.recall"] = _ratio(len(flagged & want), len(want))
    out["leakage.precision"] = _ratio(len(flagged & want), len(flagged))
    bad = {f["rows"][0]["line"] for f in _findings(result, "schema") if f["rows"][0]["split"] == "train"}
    out["schema.empty_answers.recall"] = _ratio(len(bad & set(truth["empty"])), len(truth["empty"]))
    return out


def score_copies(result: dict, truth: dict) -> dict[str, float]:
    """examples/make_banking.py: recall of the planted copies, conflicts and leaks, by kind of copy; a
    finding is right when all its rows were written from one phrasing (truth["request"]), so two clean
    rows of one request ("Hi, my card was stolen" / "my card was stolen. Thanks.") count as right and
    two sibling requests ("top up with a card" / "with a cheque") as wrong."""
    req = truth["request"]

    def same(f: dict) -> bool:
        return len({req[r["split"]][r["line"] - 1] for r in f.get("rows", [])}) == 1

    def row_found(found: list[dict], line: int) -> bool:
        """The copy on `line` is reported beside another row written from its request."""
        want = req["train"][line - 1]
        return any(line in _lines(f) and any(req["train"][x - 1] == want for x in _lines(f) - {line}) for f in found)

    out: dict[str, float] = {}
    for check, key in (("near_duplicates", "near_duplicates"), ("label_conflicts", "conflicts")):
        found = _findings(result, check)
        out[f"{check}.recall"] = _pair_recall(found, truth[key])
        # A copy can sit in a cluster around another row of its request rather than its own original
        # (harness/auditing/clusters.py): found all the same, and removed by `clean` all the same.
        out[f"{check}.row_recall"] = _ratio(sum(row_found(found, b) for _, b in truth[key]), len(truth[key]))
        out[f"{check}.precision"] = _ratio(sum(map(same, found)), len(found))
        for kind in sorted(set(truth["kinds"].values())):
            pairs = [p for p in truth[key] if truth["kinds"][str(p[1])] == kind]
            out[f"{check}.recall.{kind}"] = _pair_recall(found, pairs)
    if "outliers" in truth:
        flagged = {line for f in _findings(result, "outliers") for line in _lines(f)}
        want = set(truth["outliers"])
        out["outliers.recall"] = _ratio(len(flagged & want), len(want))
        out["outliers.precision"] = _ratio(len(flagged & want), len(flagged))
    leaks = [f for f in _findings(result, "leakage") if f["rows"] and f["rows"][0]["split"] == "eval"]
    want = {leak["eval_line"] for leak in truth["leaks"]}
    flagged = {f["rows"][0]["line"] for f in leaks}
    out["leakage.recall"] = _ratio(len(flagged & want), len(want))
    out["leakage.precision"] = _ratio(sum(map(same, leaks)), len(leaks))
    for kind in sorted({leak["kind"] for leak in truth["leaks"]}):
        lines = {leak["eval_line"] for leak in truth["leaks"] if leak["kind"] == kind}
        out[f"leakage.recall.{kind}"] = _ratio(len(flagged & lines), len(lines))
    return out


def main() -> None:
    result = json.load(open(sys.argv[1], encoding="utf-8"))
    truth = json.load(open(sys.argv[2], encoding="utf-8"))
    for key, value in score(result, truth).items():
        print(f"{key:32s} {value:.3f}")


if __name__ == "__main__":
    main()
