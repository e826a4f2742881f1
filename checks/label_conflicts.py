"""The same input taught two different answers: the model learns inconsistency, and at least one of the
rows is wrong. "The same input" is an identical text or a duplicate pair (harness/auditing/pairs.py: only
superficial differences), never a whole cluster: "change my address" and "change my PIN" look alike
and rightly carry different labels."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from harness.inputs.output_kinds import leaves, parse_json
from harness.auditing.pairs import canonical_words, differing_words
from harness.auditing.similarity import jaccard
from harness.core.text import normalize_loose

from .base import Answer, Check, CheckResult, Params, lower_is_better, not_applicable, param, register


@register
class LabelConflicts(Check):
    name = "label_conflicts"
    removes = "all"
    order = 40
    key_figures = ('conflicting_groups', 'conflicting_rows')
    answers = (Answer("labelling", "summary.conflicting_groups", "conflicting groups"),)
    title = "Conflicting labels"
    why = "One input with two answers teaches the model to be inconsistent; at least one row is wrong."
    metrics = lower_is_better("conflicting_groups", "conflicting_rows", "conflicting_rate")

    @dataclass(frozen=True)
    class Params(Params):
        output_similarity: float = param(0.5, "0..1", "generative: completions below this Jaccard are materially different answers")

    def run(self, data, params):
        if not data.row_count("train"):
            return not_applicable("no training rows")
        links, text_rows, texts = data.conflict_inputs("train")
        return self._result(links, text_rows, texts, data.row_count("train"), data.label_source, data.policy, params)

    @staticmethod
    def _result(links: list, text_rows: dict, texts: dict, n: int, label_source: str | None, policy: dict,
                params: LabelConflicts.Params) -> CheckResult:
        """links: duplicate pairs of train texts (a, b, similarity); text_rows: text id -> [(ref, label,
        normalised output)] in row order; texts: text id -> similarity key."""
        ngram = int(policy["similarity"]["ngram"])
        threshold = float(params.output_similarity)

        def answers(items: list) -> list:
            return ([lab for _, lab, _ in items] if label_source is not None
                    else _answer_groups([out for _, _, out in items], threshold, ngram))

        findings, rows_in = [], set()
        for t in sorted(t for t, items in text_rows.items() if len(items) > 1):
            items = text_rows[t]
            groups = answers(items)
            if label_source is None:
                # Requests that differ in punctuation alone share one text ("353 N Clark St" / "353 N. Clark
                # St."); answers that differ only where each copies its own request's marks agree.
                groups = _merged_copies(groups, [out for _, _, out in items], texts[t])
            counts = Counter(groups)
            if len(counts) < 2:
                continue
            refs = [ref for ref, _, _ in items]
            rows_in.update((r["split"], r["line"]) for r in refs)
            top = counts.most_common(1)[0][1]
            finding = {"rows": refs, "kind": "identical", "similarity": 1.0,
                       "message": f"{len(refs)} identical inputs, answered "
                                  + (", ".join(f"{lab} x{c}" for lab, c in counts.most_common()) if label_source
                                     else f"{len(counts)} materially different ways")}
            if label_source is not None:
                answers_of = groups
                finding.update(labels=dict(counts), row_labels=list(answers_of),
                               majority=None if sum(1 for c in counts.values() if c == top) > 1 else counts.most_common(1)[0][0])
            findings.append(finding)
        for a, b, sim in sorted(links):
            left, right = text_rows.get(a, []), text_rows.get(b, [])
            if not left or not right:
                continue
            both = answers(left + right)
            la, lb = both[:len(left)], both[len(left):]
            pick = next(((i, j) for i in range(len(la)) for j in range(len(lb)) if la[i] != lb[j]
                         and not (label_source is None and copies_own_wording(left[i][2], right[j][2], texts[a], texts[b]))),
                        None)
            if pick is None:
                continue
            i, j = pick
            refs = [left[i][0], right[j][0]]
            if label_source is not None:
                # The two labels named by content, not row order (which text comes first follows row order
                # too), with every row of each text that carries its label: rows of one text and label are
                # interchangeable, so the finding is the same whichever order the rows come in.
                first_is_a = texts[a] <= texts[b]
                x, y = min(((p, q) for p in set(la) for q in set(lb) if p != q),
                           key=lambda pq: (*sorted((str(pq[0]), str(pq[1]))), str(pq[0] if first_is_a else pq[1])))
                i, j = la.index(x), lb.index(y)
                refs = ([r for (r, _, _), lab in zip(left, la) if lab == x]
                        + [r for (r, _, _), lab in zip(right, lb) if lab == y])
            wa, wb = differing_words(canonical_words(texts[a]), canonical_words(texts[b]))
            rows_in.update((r["split"], r["line"]) for r in refs)
            finding = {"rows": refs, "kind": "near", "similarity": round(float(sim), 4),
                       "differs": [" ".join(wa), " ".join(wb)],
                       "message": "near-identical inputs" + (f" (differ: {' '.join(wa) or '-'} / {' '.join(wb) or '-'})"
                                                             if wa or wb else "")
                                  + (f", labelled {left[i][1]} / {right[j][1]}" if label_source
                                     else ", answered in materially different ways")}
            if label_source is not None:
                row_labels = [left[i][1]] * la.count(la[i]) + [right[j][1]] * lb.count(lb[j])
                finding.update(labels=dict(Counter(row_labels)), row_labels=row_labels, majority=None)
            findings.append(finding)
        return CheckResult(summary={"rows": n, "conflicting_groups": len(findings), "conflicting_rows": len(rows_in),
                                    "conflicting_rate": len(rows_in) / n if n else 0.0},
                           findings=findings,
                           info={"compared": "labels" if label_source else
                                 f"completions (different when Jaccard < {threshold}; JSON answers field by field)",
                                 "pairs": "identical inputs, or duplicate pairs (only superficial differences)"})


def copies_own_wording(out_a: str, out_b: str, text_a: str, text_b: str) -> bool:
    """Two structured answers that differ only where each copies its own request's words: "movie
    schedule" / "movie schedules", "Lastfm" / "Last Fm" extracted from requests that say exactly that.
    The requests differ superficially, so do the copies; the answers agree. text_a, text_b: similarity
    keys of the requests."""
    va, vb = parse_json(out_a), parse_json(out_b)
    if not isinstance(va, (dict, list)) or not isinstance(vb, (dict, list)):
        return False
    # A leaf whose value is punctuation alone ("#" as an address-number prefix) copies a mark that one
    # request has and the other lacks; both requests share one similarity key, which has no punctuation.
    la = [leaf for leaf in leaves(_folded(va)) if not isinstance(leaf[1], str) or normalize_loose(leaf[1])]
    lb = [leaf for leaf in leaves(_folded(vb)) if not isinstance(leaf[1], str) or normalize_loose(leaf[1])]
    if [p for p, _ in la] != [p for p, _ in lb]:
        return False
    padded_a, padded_b = f" {text_a} ", f" {text_b} "
    for (_, x), (_, y) in zip(la, lb):
        if x == y:
            continue
        if not (isinstance(x, str) and isinstance(y, str)):
            return False
        kx, ky = normalize_loose(x), normalize_loose(y)
        if not kx or not ky or f" {kx} " not in padded_a or f" {ky} " not in padded_b:
            return False
    return True


def _merged_copies(groups: list[int], outputs: list[str], text: str) -> list[int]:
    """Answer groups of one request text with every group whose first answer copies its own wording
    (copies_own_wording) joined to the first such group."""
    first = {}
    for g, out in zip(groups, outputs):
        first.setdefault(g, out)
    into = {}
    for g in first:
        into[g] = next((h for h in first if h < g and into[h] == h and copies_own_wording(first[h], first[g], text, text)), g)
    return [into[g] for g in groups]


def _answer_groups(outputs: list[str], threshold: float, ngram: int) -> list[int]:
    """Greedy grouping of completions: each joins the first group whose first member it resembles.
    Two JSON answers are the same only when every field's value is (ignoring case and spacing): answers
    that differ in one amount or one issue type look alike as text, and are materially different."""
    reps: list[tuple[bool, str]] = []  # (a JSON answer?, its key)
    out = []
    for text in outputs:
        value = parse_json(text)
        structured = isinstance(value, (dict, list))
        key = json.dumps(_folded(value), sort_keys=True) if structured else normalize_loose(text)
        for g, (rep_structured, rep) in enumerate(reps):
            if (structured, key) == (rep_structured, rep) or (
                    not structured and not rep_structured and jaccard(key, rep, ngram) >= threshold):
                out.append(g)
                break
        else:
            reps.append((structured, key))
            out.append(len(reps) - 1)
    return out


def _folded(value):
    if isinstance(value, dict):
        return {str(k): _folded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_folded(v) for v in value]
    return " ".join(value.lower().split()) if isinstance(value, str) else value
