"""Preference pairs whose chosen and rejected answers are the same text, or differ only in a few
characters, teach a preference-tuned model nothing but noise: the loss pushes the two apart on spelling,
spacing or a stray word. And a set where the chosen answer is nearly always the longer one teaches
length, not quality (the length bias of preference data)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import partial

from rapidfuzz import fuzz

from harness.inputs.shapes import get_shape
from harness.core.text import normalize

from .base import Check, CheckResult, Params, lower_is_better, not_applicable, param, register, unlisted_rows


@register
class PreferencePairs(Check):
    name = "preference_pairs"
    removes = "all"
    order = 98
    key_figures = ("identical_pairs", "near_identical_pairs", "chosen_longer_share")
    title = "Preference pairs: chosen vs rejected"
    why = "A pair whose two answers barely differ teaches noise; chosen answers that are just longer teach length."
    metrics = lower_is_better("identical_pairs", "near_identical_pairs", "flagged_rate", "chosen_longer_share")

    @dataclass(frozen=True)
    class Params(Params):
        near_similarity: float = param(0.95, "0..1", "chosen vs rejected this similar (rapidfuzz ratio, 0-1) are near-identical")
        max_findings: int = param(500, ">=0", "pairs listed (all are counted)")

    def run(self, data, params):
        if not get_shape(data.shape).paired:
            return not_applicable("not preference data (prompt, chosen, rejected)")
        counts = data.count_keys("train", _pair_counts)
        n = counts.get("pairs", (0,))[0]
        if not n:
            return not_applicable("no valid preference rows")
        near = float(params.near_similarity)
        findings = [{"rows": [ref], **hit} for ref, hit in data.scan_answers("train", partial(_judge_pair, near))]
        kinds = Counter(f["kind"] for f in findings)
        return CheckResult(
            summary={"pairs": n, "identical_pairs": kinds["identical"], "near_identical_pairs": kinds["near_identical"],
                     "flagged_rate": len(findings) / n, "chosen_longer_share": round(counts.get("longer", (0,))[0] / n, 4)},
            findings=findings[:params.max_findings],
            info={"near_similarity": near, **unlisted_rows(findings, params.max_findings),
                  "length_bias": "share of pairs whose chosen answer is longer than the rejected one "
                                 "(near 1.0: the preference may be length)"})


def _pair_counts(prompt: str, chosen: str | None, rejected: str | None) -> list[str]:
    longer = len(normalize(chosen or "")) > len(normalize(rejected or ""))
    return ["pairs", "longer"] if longer else ["pairs"]


def _judge_pair(near: float, prompt: str, chosen: str | None, rejected: str | None) -> dict | None:
    """The pair's finding: its two answers the same text, or nearly."""
    chosen, rejected = chosen or "", rejected or ""
    a, b = normalize(chosen), normalize(rejected)
    if a == b:
        return {"kind": "identical", "similarity": 1.0,
                "message": "chosen and rejected are the same text" + (" (after spacing/case)" if chosen != rejected else "")}
    sim = fuzz.ratio(a, b) / 100  # rapidfuzz: normalised Indel similarity, C speed
    if sim >= near:
        return {"kind": "near_identical", "similarity": round(sim, 4),
                "message": f"chosen and rejected differ in a few characters only (similarity {sim:.2f})"}
    return None
