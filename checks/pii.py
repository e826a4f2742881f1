"""Personal data and secrets in training rows get memorised and can be extracted from the tuned model.
Regex recognisers with validation where a checksum exists (Luhn for cards, mod-97 for IBANs): the cheap,
reliable part of presidio; secrets by a maintained ruleset (harness/core/secret_rules.py). Every text field is
scanned, chat turns included; reports see masked text."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Literal

from harness.core.redact import KINDS, find_pii, mask, redaction_tokens

from .base import Answer, Check, CheckResult, Params, lower_is_better, param, register


@register
class PII(Check):
    name = "pii"
    removes = "all"
    order = 80
    key_figures = ('rows_with_pii', 'emails', 'phones', 'cards', 'ibans', 'ips', 'secrets')
    answers = (Answer("personal_data", "summary.rows_with_pii", "rows with PII or secrets (pattern-based)"),)
    title = "Personal data and secrets"
    why = "A fine-tuned model can repeat what it was trained on: personal data and keys in rows can leak."
    limitations = ("Personal data is found by pattern (e-mail, phone, cards, IBAN, IP addresses, secrets), not names or "
                   "street addresses.",)
    metrics = lower_is_better("rows_with_pii", "matches", "secrets", "emails", "phones", "cards", "ibans", "ips")

    @dataclass(frozen=True)
    class Params(Params):
        # Literal[KINDS]: the recognisers harness/core/redact.py has, so a kind it lacks is refused by name.
        kinds: list[Literal[KINDS]] = param(list(KINDS), "", "kinds of personal data and secrets looked for (and masked)")

    def run(self, data, params):
        scan = partial(_row_findings, tuple(params.kinds))
        return self._result([hit for split in data.splits for hit in data.scan_rows(split, scan)], tuple(params.kinds))

    @staticmethod
    def _result(hits: list[tuple[dict, list[dict]]], kinds: tuple) -> CheckResult:
        """hits: (row ref, its findings) for rows with a match, in split and file order."""
        counts = {k: 0 for k in KINDS}
        findings = []
        values: list[tuple[str, str]] = []
        for ref, found in hits:
            for f in found:
                counts[f["kind"]] += 1
                values.append((f["kind"], f.pop("value")))
                findings.append({"rows": [ref], **f})
        return CheckResult(summary={"rows_with_pii": len(hits), "matches": len(findings), "secrets": counts["secret"],
                                    "emails": counts["email"], "phones": counts["phone"], "cards": counts["card"],
                                    "ibans": counts["iban"], "ips": counts["ip"]},
                           findings=findings, info={"kinds": list(kinds), "validation": "Luhn for cards, mod-97 for IBANs"},
                           redact=redaction_tokens(values))


def with_label(texts: dict[str, str], label: object, output: object) -> dict[str, str]:
    """A classification row's label is scanned too: an e-mail or a key used as a label spreads into every
    output that names labels."""
    if output is None and isinstance(label, str) and label:
        return {**texts, "label": label}
    return texts


def row_findings(texts: dict[str, str], kinds: tuple) -> list[dict]:
    """One row's matches over every text field, as findings without `rows`; `value` is the matched text,
    for the audit's masking only (the result keeps it out of every output)."""
    out = []
    for field, text in texts.items():
        for f in find_pii(text, kinds):
            out.append({"kind": f["kind"], "detail": f["detail"], "field": field, "span": [f["start"], f["end"]],
                        "preview": mask(text[f["start"]:f["end"]], f["kind"]), "value": text[f["start"]:f["end"]],
                        "message": f"{f['detail'].replace('_', ' ')} in {field}"})
    return out


def _row_findings(kinds: tuple, texts: dict[str, str], label, output) -> list[dict]:
    """One row's matches (a plain function: the Spark engine ships it to the executors)."""
    return row_findings(with_label(texts, label, output), kinds)
