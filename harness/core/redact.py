"""Masking personal data and secrets wherever text leaves the harness (audit.json, the report, the terminal,
the issues table): the pii check finds them with the same recognisers, and every writer masks with them,
so a secret shown by another check (a shortcut token, a label, a template) is masked too. A core service:
it must hold even where the pii check is turned off in a policy for its findings."""

from __future__ import annotations

import ipaddress
import re

from harness.core.secret_rules import secret_spans

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,24}(?![\w-])")
CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])"
                  r"|(?<![\d.])\d{4}\.\d{4,6}\.\d{4,5}(?:\.\d{1,4})?(?![\d.])")  # or in groups with dots
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
IPV4 = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]|\.\d)")
IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}(?![\w:])|(?<![\w:])(?:[0-9A-Fa-f]{1,4}:){1,6}:(?:[0-9A-Fa-f]{1,4}:?){0,5}[0-9A-Fa-f]{1,4}(?![\w:])")
# International (+CC ...) or national with an area code; separators single spaces, dots or dashes.
PHONE = re.compile(r"(?<![\w+/:.-])(?:\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){1,5}"
                   r"|(?:\(\d{2,5}\)[ .-]?|\d{2,5}[ .-])\d{3,4}(?:[ .-]?\d{2,6})?)(?![\w:/]|[.-]\d)")
_DATE_OR_TIME = re.compile(r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}")
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


# A cheap gate: most rows hold no '@' and no run of digits, so most patterns never run.
_DIGITS = re.compile(r"\d[\d \-.():]{5,}\d|[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:")
_IBAN = {False: IBAN, True: re.compile(IBAN.pattern, re.I)}


def find_pii(text: str, kinds=KINDS, any_case: bool = False) -> list[dict]:
    """All matches in one text as {kind, detail, start, end}; overlapping weaker matches dropped. With
    `any_case`, patterns ignore case (for masking outputs, where other checks show text casefolded: "akia..."
    for an AWS key; a masked output may err towards masking)."""
    found: list[dict] = []
    taken: list[tuple[int, int]] = []

    def add(kind, span, detail=None):
        s, e = span
        if any(s < te and ts < e for ts, te in taken):
            return
        taken.append((s, e))
        found.append({"kind": kind, "detail": detail or kind, "start": s, "end": e})

    if "secret" in kinds:
        for name, s, e in secret_spans(text, any_case):
            add("secret", (s, e), name)
    has_digits = _DIGITS.search(text) is not None
    if "email" in kinds and "@" in text:
        for m in EMAIL.finditer(text):
            add("email", m.span())
    if not has_digits:
        found.sort(key=lambda f: f["start"])
        return found
    if "iban" in kinds:
        for m in _IBAN[any_case].finditer(text):
            if iban_ok(m.group()):
                add("iban", m.span())
    if "card" in kinds:
        for m in CARD.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            if 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1:
                add("card", m.span())
    if "ip" in kinds:
        for rx in (IPV4, IPV6):
            for m in rx.finditer(text):
                try:
                    ipaddress.ip_address(m.group())
                except ValueError:
                    continue
                add("ip", m.span())
    if "phone" in kinds:
        for m in PHONE.finditer(text):
            digits = re.sub(r"\D", "", m.group())
            intl = m.group().startswith("+")
            if _DATE_OR_TIME.match(m.group()) or not (8 if intl else 10) <= len(digits) <= (15 if intl else 11):
                continue
            add("phone", m.span())
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


_WORD = re.compile(r"\w+")


def redaction_tokens(found: list[tuple[str, str]]) -> frozenset[str]:
    """The words of found values (kind, text) that identify them on their own, casefolded: checks show
    text normalised (lowercased, punctuation removed), and "reply to jane doe1987 gmail com" or
    "password hunter2secret" matches no pattern any more. A secret gives every word of 6+ characters but
    the name it was given to; other kinds the words that mix letters and digits, long digit runs and words
    of 10+ characters. Common short words ("jane", "gmail") are left: masking them would blank labels and
    prose in every output."""
    out = set()
    for kind, value in found:
        for word in _WORD.findall(value.casefold()):
            if kind == "secret":
                keep = len(word) >= 6 and word not in _CREDENTIAL_NAMES
            else:
                has_digit = any(c.isdigit() for c in word)
                keep = (len(word) >= 4 and has_digit and not word.isdigit()) or (word.isdigit() and len(word) >= 6) \
                    or len(word) >= 10
            if keep:
                out.add(word)
    return frozenset(out)


_CREDENTIAL_NAMES = {"password", "passwd", "passphrase", "secret", "token", "apikey", "api_key", "secret_key",
                     "access_token", "auth_token", "private", "aws_secret_access_key", "begin", "end"}


def mask_words(text: str, tokens: frozenset[str]) -> str:
    """`text` with every word in `tokens` (casefolded) masked."""
    if not tokens:
        return text
    return _WORD.sub(lambda m: mask(m.group(), "secret") if m.group().casefold() in tokens else m.group(), text)


def mask_text(text: str, kinds: tuple = KINDS, tokens: frozenset[str] = frozenset()) -> str:
    """`text` with every match masked, and every word of `tokens`: what the audit prints of any check, not
    only this one's."""
    found = find_pii(text, kinds, any_case=True) if text else []
    if not found:
        return mask_words(text, tokens)
    out, at = [], 0
    for f in found:
        if f["start"] < at:
            continue
        out += [text[at:f["start"]], mask(text[f["start"]:f["end"]], f["kind"])]
        at = f["end"]
    return mask_words("".join(out) + text[at:], tokens)
