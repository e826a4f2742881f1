"""Personal data and secrets in training rows get memorised and can be extracted from the tuned model.
Regex recognisers with validation where a checksum exists (Luhn for cards, mod-97 for IBANs): the cheap,
reliable part of presidio. Every text field is scanned, chat turns included; reports see masked text."""

from __future__ import annotations

import ipaddress
import re

from .base import Check, CheckResult, register

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,24}(?![\w-])")
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]|\.\d)")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}(?![\w:])|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:?){0,5}[0-9A-Fa-f]{1,4}(?![\w:])")
# International (+CC ...) or national with an area code; separators single spaces, dots or dashes.
PHONE = re.compile(r"(?<![\w+/:.-])(?:\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,5}"
                   r"|(?:\(\d{2,5}\)[ .-]?|\d{2,5}[ .-])\d{3,4}(?:[ .-]?\d{2,6})?)(?![\w:/]|[.-]\d)")
_DATE_OR_TIME = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
SECRETS = [
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("github_token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("openai_key", re.compile(r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}\b")),
    ("stripe_key", re.compile(r"\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,}\b")),
    ("google_api_key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    # the whole block, to its END line (or the text's end when cut off): the body is the secret
    ("private_key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
                               r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|\Z)")),
    ("password_assignment", re.compile(r"(?i)\b(?:password|passwd|pwd|api[_-]?key|secret|token)\s*[:=]\s*['\"]?[^\s'\"]{6,}")),
]
KINDS = ("email", "phone", "card", "iban", "ip", "secret")


def luhn_ok(digits: str) -> bool:
    total, parity = 0, len(digits) % 2
    for i, ch in enumerate(digits):
        d = int(ch)
        if i % 2 == parity:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iban_ok(text: str) -> bool:
    s = text.replace(" ", "")
    if not 15 <= len(s) <= 34:
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


# Cheap gates: most rows hold no '@', no run of digits and no key prefix, so most patterns never run.
_DIGITS = re.compile(r"\d[\d \-.():]{5,}\d|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:")
_SECRET_HINT = re.compile(r"AKIA|ASIA|gh[pousr]_|xox|sk-|[sr]k_|AIza|eyJ|-----BEGIN|(?i:passw|pwd|api[_-]?key|secret|token)")


# The same patterns in any case, for masking outputs: other checks show text casefolded ("akia..." for
# an AWS key), and a masked output may err towards masking.
_ANY_CASE = {"secrets": [(n, re.compile(rx.pattern, re.I)) for n, rx in SECRETS],
             "iban": re.compile(IBAN.pattern, re.I), "hint": re.compile(_SECRET_HINT.pattern, re.I)}
_EXACT_CASE = {"secrets": SECRETS, "iban": IBAN, "hint": _SECRET_HINT}


def find_pii(text: str, kinds=KINDS, any_case: bool = False) -> list[dict]:
    """All matches in one text as {kind, detail, start, end}; overlapping weaker matches dropped."""
    found: list[dict] = []
    rx_set = _ANY_CASE if any_case else _EXACT_CASE
    secrets, iban_rx, hint = rx_set["secrets"], rx_set["iban"], rx_set["hint"]
    has_digits = _DIGITS.search(text) is not None
    if not has_digits and "@" not in text and not hint.search(text):
        return found
    taken: list[tuple[int, int]] = []

    def add(kind, m, detail=None):
        s, e = m.span()
        if any(s < te and ts < e for ts, te in taken):
            return
        taken.append((s, e))
        found.append({"kind": kind, "detail": detail or kind, "start": s, "end": e})

    if "secret" in kinds and hint.search(text):
        for name, rx in secrets:
            for m in rx.finditer(text):
                add("secret", m, name)
    if "email" in kinds and "@" in text:
        for m in EMAIL.finditer(text):
            add("email", m)
    if not has_digits:
        found.sort(key=lambda f: f["start"])
        return found
    if "iban" in kinds:
        for m in iban_rx.finditer(text):
            if iban_ok(m.group()):
                add("iban", m)
    if "card" in kinds:
        for m in CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
                add("card", m)
    if "ip" in kinds:
        for rx in (IPV4, IPV6):
            for m in rx.finditer(text):
                try:
                    ipaddress.ip_address(m.group())
                except ValueError:
                    continue
                add("ip", m)
    if "phone" in kinds:
        for m in PHONE.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            intl = m.group().startswith("+")
            if _DATE_OR_TIME.match(m.group()) or not (8 if intl else 10) <= len(digits) <= (15 if intl else 11):
                continue
            add("phone", m)
    found.sort(key=lambda f: f["start"])
    return found


def mask(value: str, kind: str | None = None) -> str:
    """Enough of a match to recognise it, not enough to re-spread it. A secret keeps no more than its
    first four characters and says how long it was: a sixth of a 1,700-character private key is 280
    characters of it."""
    if kind == "secret":
        keep = min(4, len(value) // 6)
        rest = len(value) - keep
        return value[:keep] + "*" * min(rest, 12) + (f"[{len(value)} chars]" if rest > 12 else "")
    if len(value) <= 4:
        return "*" * len(value)
    keep = max(1, len(value) // 6)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


@register
class PII(Check):
    name = "pii"
    order = 80
    key_figures = ('rows_with_pii', 'emails', 'phones', 'cards', 'ibans', 'ips', 'secrets')
    title = "Personal data and secrets"
    why = "A fine-tuned model can repeat what it was trained on: personal data and keys in rows can leak."
    metrics = ("rows_with_pii", "matches", "secrets", "emails", "phones", "cards", "ibans", "ips")

    def run(self, data, params):
        kinds = tuple(params["kinds"])
        found = [(ex.ref, row_findings(with_label(ex.texts, ex.label, ex.output), kinds))
                 for split in data.splits for ex in data.rows(split)]
        return self._result([(ref, f) for ref, f in found if f], kinds)

    def run_spark(self, data, params):
        """The same scanner in every partition; only rows with a match reach the driver."""
        import json

        kinds = tuple(params["kinds"])

        def scan(batches):
            from harness.spark import pandas_frame

            for pdf in batches:
                out = [(s, line, json.dumps(f)) for s, line, texts, label, output
                       in zip(pdf["split"], pdf["line"], pdf["texts"], pdf["label"], pdf["output"])
                       if (f := row_findings(with_label(json.loads(texts), label, output), kinds))]
                yield pandas_frame(out, columns=["split", "line", "found"])

        hits = []
        for order, split in enumerate(data.splits):
            got = (data.frame(split).select("split", "line", "texts", "label", "output")
                   .mapInPandas(scan, "split string, line long, found string").orderBy("line").collect())
            hits += [({"split": r.split, "line": r.line}, json.loads(r.found)) for r in got]
        return self._result(hits, kinds)

    @staticmethod
    def _result(hits: list[tuple[dict, list[dict]]], kinds: tuple) -> CheckResult:
        """hits: (row ref, its findings) for rows with a match, in split and file order."""
        counts = {k: 0 for k in KINDS}
        findings = []
        for ref, found in hits:
            for f in found:
                counts[f["kind"]] += 1
                findings.append({"rows": [ref], **f})
        return CheckResult(summary={"rows_with_pii": len(hits), "matches": len(findings), "secrets": counts["secret"],
                                    "emails": counts["email"], "phones": counts["phone"], "cards": counts["card"],
                                    "ibans": counts["iban"], "ips": counts["ip"]},
                           findings=findings, info={"kinds": list(kinds), "validation": "Luhn for cards, mod-97 for IBANs"})


def with_label(texts: dict[str, str], label: object, output: object) -> dict[str, str]:
    """A classification row's label is scanned too: an e-mail or a key used as a label spreads into every
    output that names labels."""
    if output is None and isinstance(label, str) and label:
        return {**texts, "label": label}
    return texts


def mask_text(text: str, kinds: tuple = KINDS) -> str:
    """`text` with every match masked: what the audit prints of any check, not only this one's."""
    found = find_pii(text, kinds, any_case=True) if text else []
    if not found:
        return text
    out, at = [], 0
    for f in found:
        if f["start"] < at:
            continue
        out += [text[at:f["start"]], mask(text[f["start"]:f["end"]], f["kind"])]
        at = f["end"]
    return "".join(out) + text[at:]


def row_findings(texts: dict[str, str], kinds: tuple) -> list[dict]:
    """One row's matches over every text field, as findings without `rows`."""
    out = []
    for field, text in texts.items():
        for f in find_pii(text, kinds):
            out.append({"kind": f["kind"], "detail": f["detail"], "field": field, "span": [f["start"], f["end"]],
                        "preview": mask(text[f["start"]:f["end"]], f["kind"]),
                        "message": f"{f['detail'].replace('_', ' ')} in {field}"})
    return out
