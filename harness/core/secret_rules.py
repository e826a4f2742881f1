"""The secret formats the audit recognises, as data: every regex plug-in of detect-secrets (Yelp's maintained
scanner; its patterns are read from the installed package, so an upgrade brings its new formats), then the
formats it lacks or matches too narrowly for prose, from secret_rules.yaml beside this file. Its verifiers,
entropy and keyword heuristics are left out: they are written for source code and flag hashes and ids in
text. In our rules a group, when there is one, is the secret (the value after `password=`); a
detect-secrets match is masked whole (its groups are not always the secret)."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

# Covered elsewhere: public IPs are the pii check's `ip` kind; the private-key block rule of
# secret_rules.yaml masks the whole block, where detect-secrets matches its BEGIN line only.
_SKIPPED_PLUGINS = {"IPPublicDetector"}
_EXTRA = Path(__file__).with_name("secret_rules.yaml")


@dataclass(frozen=True)
class SecretRule:
    name: str
    pattern: re.Pattern
    source: str
    group: int = 0  # the group that is the secret; 0: the whole match
    # Words one of which every match holds (lowercased when the pattern ignores case), found from the
    # pattern itself: a text holding none of them is not searched. None: always searched.
    keywords: frozenset[str] | None = None


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _detect_secrets_rules() -> list[SecretRule]:
    import detect_secrets.plugins as plugins
    from detect_secrets.plugins.base import RegexBasedDetector

    out = []
    for info in sorted(pkgutil.iter_modules(plugins.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{plugins.__name__}.{info.name}")
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if (issubclass(cls, RegexBasedDetector) and cls is not RegexBasedDetector
                    and cls.__module__ == module.__name__ and cls_name not in _SKIPPED_PLUGINS):
                out += [SecretRule(_snake(cls.secret_type), rx, f"detect-secrets {cls_name}") for rx in cls.denylist]
    return out


def _extra_rules() -> list[SecretRule]:
    doc = yaml.safe_load(_EXTRA.read_text(encoding="utf-8"))
    compiled = [(r, re.compile(r["pattern"])) for r in doc["rules"]]
    return [SecretRule(r["name"], rx, r["source"], 1 if rx.groups else 0) for r, rx in compiled]


def required_words(pattern: re.Pattern) -> frozenset[str] | None:
    """Literal strings one of which every match of `pattern` contains, or None when none can be told.
    Read from the parsed pattern (a sequence's literal runs, a group's, each branch of an alternation), the
    way gitleaks gives each rule keywords, but computed, so a new detect-secrets rule gets them too."""
    from re import _constants as c, _parser as parser  # noqa: PLC2701 - the stdlib's own regex parser

    def walk(items) -> frozenset[str] | None:
        options, run = [], ""
        for op, av in items:
            if op is c.LITERAL:
                run += chr(av)
                continue
            if len(run) >= 2:
                options.append(frozenset([run]))
            run = ""
            if op is c.SUBPATTERN:
                found = walk(av[-1])
            elif op is c.BRANCH:
                alts = [walk(b) for b in av[1]]
                found = frozenset().union(*alts) if all(alts) else None
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
                found = walk(av[2])
            else:
                found = None
            if found:
                options.append(found)
        if len(run) >= 2:
            options.append(frozenset([run]))
        # the most telling choice: the set whose shortest word is longest
        return max(options, key=lambda s: (min(map(len, s)), -len(s))) if options else None

    words = walk(parser.parse(pattern.pattern, pattern.flags))
    return frozenset(w.lower() for w in words) if words and pattern.flags & re.I else words


@functools.cache
def secret_rules(any_case: bool = False) -> tuple[SecretRule, ...]:
    """Our rules first (the whole private-key block wins over a BEGIN line), then detect-secrets'. With
    `any_case`, every pattern ignores case: outputs show some text casefolded, and masking may err."""
    rules = _extra_rules() + _detect_secrets_rules()
    if any_case:
        rules = [replace(r, pattern=re.compile(r.pattern.pattern, r.pattern.flags | re.I)) for r in rules]
    return tuple(replace(r, keywords=required_words(r.pattern)) for r in rules)


def secret_spans(text: str, any_case: bool = False) -> list[tuple[str, int, int]]:
    """(rule name, start, end) of every secret in `text`: the span of the rule's secret group, else the match's."""
    # One pass per rule: one alternation of all of them is slower in Python's re (measured 1.4 s against
    # 0.7 s over 36k Banking77 texts).
    out = []
    rules, exact, folded, always, by_word = _compiled(any_case)
    wanted = set(always)
    # `in` per word is C-fast, and faster in CPython than one regex alternation of the words (measured
    # 0.5 s against 1.9 s over 180k Banking77 texts)
    lower = text.lower()
    for words, seen, ignore_case in ((exact, text, False), (folded, lower, True)):
        for w in words:
            if w in seen:
                wanted |= by_word[ignore_case][w]
    for i in sorted(wanted):  # in rule order: an earlier rule's match wins an overlap
        name, pattern, group = rules[i]
        for m in pattern.finditer(text):
            s, e = m.span(group) if m.group(group) else m.span()
            if e > s:
                out.append((name, s, e))
    return out


@functools.cache
def _compiled(any_case: bool) -> tuple:
    """The rules as plain tuples, every rule word (exact, lowercased), the rules without words, and which
    rules each word calls for: only the rules whose words a text holds run (a loop over every rule per
    text cost more than the searches)."""
    rules = secret_rules(any_case)
    always = tuple(i for i, r in enumerate(rules) if r.keywords is None)
    by_word: dict[bool, dict[str, set[int]]] = {False: {}, True: {}}
    for i, r in enumerate(rules):
        for w in r.keywords or ():
            by_word[bool(r.pattern.flags & re.I)].setdefault(w, set()).add(i)
    return (tuple((r.name, r.pattern, r.group) for r in rules), tuple(sorted(by_word[False])),
            tuple(sorted(by_word[True])), always, by_word)
