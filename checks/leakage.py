"""Eval rows that also sit in train inflate every later score. Found three ways: exact match, near
duplicate (the shared duplicate pairs: similar text whose differences are superficial,
harness/auditing/pairs.py), and long word n-gram overlap measured as the longest contaminated span
(ConTAM 2024, harness/auditing/ngrams.py), which catches an eval text pasted inside a longer training row.
Probe items of the regression suites are looked for in train the same way.

A row's identity is its request (`input`: for chat rows the user turns, without the system prompt that
most rows share), so exact and near matches compare requests. The contained-span search also reads the
text a training row carries beyond its request (a chat row's system turns and answer, a completion):
an eval item pasted into a system prompt reaches the model as surely as one in a user turn. Those texts
are indexed once per distinct text, so a system prompt shared by every row is one document, not a
common n-gram."""

from __future__ import annotations

from dataclasses import dataclass

from harness.core.text import normalize_loose
from harness.inputs.output_kinds import same_answer

from .base import Answer, Check, CheckResult, Params, lower_is_better, param, register


@register
class Leakage(Check):
    name = "leakage"
    removes = "all"
    order = 60
    key_figures = ('leaked_eval_rows', 'exact', 'near', 'ngram', 'leaked_probe_items')
    answers = (Answer("clean_eval", "summary.leaked_eval_rows", "eval rows found in train"),)
    title = "Train/eval leakage and contamination"
    why = "An eval row the model trained on measures memory, not skill: every later score is inflated."
    metrics = lower_is_better("leaked_eval_rows", "leaked_rate", "exact", "near", "ngram", "leaked_probe_items")

    @dataclass(frozen=True)
    class Params(Params):
        ngram: int = param(8, ">=1", "word n-gram length for contamination (GPT-3 used 13; rows here are short)")
        min_coverage: float = param(0.9, ">0 <=1", "flag when one train row holds a contiguous span covering this share of the eval row")
        common_ngram_rows: int = param(10, ">=1", "a train row is a candidate only if it shares an n-gram held by at most this many rows")
        answer_similarity: float = param(0.8, "0..1", "a leak needs the same answer: labels equal, free text at this character Jaccard")
        probes: bool = param(True, "", "also look for the regression suites' probe items in train")

    def run(self, data, params):
        min_cov = params.min_coverage
        probes = data.probes if params.probes else []
        probe_keys = [normalize_loose(item["text"]) for item in probes]
        copies = data.eval_copies()
        exact_probes = data.rows_with_key("train", probe_keys)
        spans, probe_spans = (data.contained_spans(params.ngram, params.common_ngram_rows, min_cov, set(copies),
                                                   probe_keys)
                              if data.eval is not None or probes else ({}, {}))
        found = sorted(set(copies) | set(spans))
        train_rows = {r for exact, cands in copies.values() for r in exact + [c for c, _ in cands]}
        train_rows |= {r for _, rows, _ in list(spans.values()) + list(probe_spans.values()) for r in rows}
        train_rows |= {r for rows in exact_probes.values() for r in rows}
        ev = dict(zip(found, data.answers_at("eval", found))) if found else {}
        tr = dict(zip(sorted(train_rows), data.answers_at("train", sorted(train_rows))))
        leaks = []  # (eval ref, eval label, kind, similarity, train matches, eval answer, where)
        for j in found:
            ref, label, answer = ev[j]
            where = None
            if j in copies and copies[j][0]:
                # Near copies ride along with the exact ones: cleaning the leak removes them all.
                exact, cands = copies[j]
                kind, sim = "exact", 1.0
                ride = sorted({r for r, _ in cands} - set(exact))
                if answer is not None:
                    ride = [r for r in ride if same_answer(answer, tr[r][2], params.answer_similarity)]
                matches = exact + ride
            elif j in copies:
                cands = copies[j][1]
                kind, sim, matches = "near", max(s for _, s in cands), sorted({r for r, _ in cands})
            else:
                sim, matches, where = spans[j]
                kind = "ngram"
            leaks.append((ref, label, kind, sim, [tr[r] for r in matches], answer, where))
        probe_hits = []  # (item, kind, coverage, train refs, where)
        for k, item in enumerate(probes):
            if probe_keys[k] in exact_probes:
                hit, cov, matches, where = "exact", 1.0, exact_probes[probe_keys[k]], None
            elif k in probe_spans:
                cov, matches, where = probe_spans[k]
                hit = "ngram"
            else:
                continue
            probe_hits.append((item, hit, cov, [tr[r][0] for r in matches], where))
        return self._result(leaks, probe_hits, data.row_count("eval"), len(probes), data.policy, params)

    @staticmethod
    def _result(leaks: list, probe_hits: list, n_eval: int, n_probes: int, policy: dict,
                params: Leakage.Params) -> CheckResult:
        findings: list[dict] = []
        kinds = {"exact": 0, "near": 0, "ngram": 0}
        other_answer = 0
        for ref, eval_label, kind, sim, matches, eval_answer, where in leaks:
            # A leak is the same item: where answers exist, a training row that asks the same with another
            # answer ("top up with a card" / "with a cheque", one slot value apart) is a different item.
            # Text found beyond a training row's request (its system prompt, its answer) is not a request
            # that row answers: the eval item itself is in what the model reads or writes.
            if kind != "exact" and eval_answer is not None and where is None:
                matches = [m for m in matches if same_answer(eval_answer, m[2], params.answer_similarity)]
                if not matches:
                    other_answer += 1
                    continue
            matches = [(m[0], m[1]) for m in matches]
            kinds[kind] += 1
            finding = {"rows": [ref] + [m for m, _ in matches[:20]], "kind": kind,
                       "similarity": round(float(sim), 4), "train_matches": len(matches),
                       "message": f"eval row found in train ({kind}"
                                  + (f", Jaccard {sim:.2f})" if kind == "near" else
                                     f", longest shared span covers {sim:.0%} of it)" if kind == "ngram" else ")")
                                  + (f" {BEYOND_SAYS}" if where else "")}
            if where:
                finding["found_in"] = where
            if eval_label is not None:
                finding["eval_label"] = eval_label
                finding["train_labels"] = sorted({lab for _, lab in matches if lab is not None})
            findings.append(finding)
        for item, hit, cov, refs, where in probe_hits:
            findings.append({"rows": refs[:20], "kind": f"probe_{hit}", "probe": item.get("probe"),
                             "probe_id": item.get("id"), "similarity": round(float(cov), 4),
                             "message": f"probe item {item.get('probe')}:{item.get('id')} found in train ({hit})"
                                        + (f" {BEYOND_SAYS}" if where else ""),
                             **({"found_in": where} if where else {})})
        leaked = sum(kinds.values())
        return CheckResult(summary={"eval_rows": n_eval, "leaked_eval_rows": leaked,
                                    "leaked_rate": leaked / n_eval if n_eval else 0.0, **kinds,
                                    "same_input_other_answer": other_answer,
                                    "probe_items_checked": n_probes, "leaked_probe_items": len(probe_hits),
                                    "applicable": bool(n_eval or n_probes)},
                           skipped=None if n_eval or n_probes else "no eval rows and no probe items to look for in train",
                           findings=findings,
                           info={"ngram": params.ngram, "min_coverage": float(params.min_coverage),
                                 "near_threshold": policy["similarity"]["threshold"]})


BEYOND_SAYS = "in text the training row carries beyond its request (a system turn, an answer)"
