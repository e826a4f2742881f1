"""Shortcuts: what a model could exploit to score well without understanding the text (Gururangan et
al. 2018; Gardner et al. 2021). Words that define a class ("refund" for a refund intent) are what the
model should learn: they are listed as an informational "label words" table, never a warning. A warning
is kept for artefacts: tokens unrelated to meaning (ids, tags such as "[ref:..]", markup, symbols,
urls), fixed prefixes or suffixes set off by a delimiter (channel tags, signatures, boilerplate), and
surface features (length, punctuation, casing, whitespace, script) that predict the label, tested with
a classifier on those features alone against the label prior. Each token's p(label | token) is tested
against the label's prior with a one-sided z-test given its count, Bonferroni-corrected."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache, partial


import numpy as np

from .base import Check, CheckResult, Params, lower_is_better, not_applicable, param, register


# A label no two rows share cannot be predicted by anything the rows have in common (ids, free text
# stored as a label): there is no shortcut to test for, and no class prior to test against.
EVERY_LABEL_UNIQUE = ("every label is unique (each of the {rows} rows has its own): no token or feature can "
                      "predict a label seen once; is the label column an id or free text?")


def _core(token: str) -> tuple[bool, int]:
    return (not re.search(r"\w", token), len(token))


@register
class Shortcuts(Check):
    name = "shortcuts"
    order = 70
    key_figures = ('shortcut_tokens', 'affix_shortcuts', 'surface_shortcut', 'label_words')
    title = "Shortcuts (tokens that give the label away)"
    why = "A token that almost always comes with one label lets the model skip the task and break on new data."
    metrics = {**lower_is_better("shortcut_tokens", "affix_shortcuts", "surface_shortcut", "surface_lift",
                                 "label_name_rows", "label_name_rate"),
               "label_words": None}  # words that define a class: described, neither way is better

    @dataclass(frozen=True)
    class Params(Params):
        min_count: int = param(10, ">=1", "a token must occur in at least this many rows")
        min_precision: float = param(0.85, "0..1", "p(label | token) at least this")
        alpha: float = param(0.001, ">0 <=1", "family-wise significance (Bonferroni over tested tokens)")
        max_findings: int = param(50, ">=0", "artefact tokens listed")
        max_label_words: int = param(50, ">=0", "rows of the informational table of words that define a class")
        min_surface_lift: float = param(0.2, "0..1", "surface features alone must close this share of the gap from prior to 100%")
        max_surface_rows: int = param(50000, ">=1", "rows sampled for the surface-feature test")

    def run(self, data, params):
        if data.label_source is None:
            return not_applicable("no labels: the data is generative with free-form completions")
        from sklearn.feature_extraction.text import CountVectorizer

        label_counts = data.label_counts("train")
        classes = sorted(label_counts)
        if len(classes) < 2:
            return not_applicable("only one label")
        if max(label_counts.values()) < 2:
            return not_applicable(EVERY_LABEL_UNIQUE.format(rows=sum(label_counts.values())))
        analyze = CountVectorizer(**VECTORIZER).build_analyzer()
        counts, digests = data.token_label_counts("train", analyze, params.min_count)
        vocab = sorted(digests)
        at, code = {t: k for k, t in enumerate(vocab)}, {c: j for j, c in enumerate(classes)}
        joint = np.zeros((len(vocab), len(classes)))
        for (tok, lab), k in counts.items():
            joint[at[tok], code[lab]] = k

        def refs_of(wanted: list[tuple[str, str]]) -> dict[tuple[str, str], list[dict]]:
            """The first 20 rows of each (token, label) asked for: the rows are tokenised again, keeping
            only these tokens (asked for the artefact findings alone, usually none)."""
            if not wanted:
                return {}
            got = data.keyed_rows("train", partial(_flagged_keys, analyze, frozenset(t for t, _ in wanted)))
            return {(t, lab): got.get((t, lab), (0, []))[1] for t, lab in wanted}

        keyed = data.keyed_rows("train", partial(_name_and_affix_keys, tuple(classes)))
        name_hits = {lab: (keyed[("name", lab, True)][1], keyed[("name", lab, True)][0],
                           sum(keyed.get(("name", lab, own), (0,))[0] for own in (True, False)))
                     for lab in classes if ("name", lab, True) in keyed}
        affix_counts = {key[1:]: [k, refs] for key, (k, refs, _) in keyed.items() if key[0] == "affix"}
        n = data.row_count("train")
        got = data.requests_at("train", surface_sample(n, params.max_surface_rows))
        surface = surface_test(np.array([surface_features(text) for _, text, _ in got]).reshape(len(got), -1),
                               [lab for _, _, lab in got], [ref for ref, _, _ in got], params)
        return self._result(classes, label_counts, vocab, joint, digests, refs_of, name_hits, n, params,
                            affix_counts, surface)

    @staticmethod
    def _result(classes, label_counts, vocab, joint, digests, refs_of, name_hits, n_rows, params: Shortcuts.Params,
                affix_counts=None, surface=None) -> CheckResult:
        """joint: tokens (sorted) x classes, rows holding both; digests: token -> a digest of its row set;
        refs_of([(token, label)]) -> the first 20 refs of the token's rows with that label; name_hits: label -> (refs,
        rows, present); affix_counts: (kind, affix, label) -> [rows, first refs];
        surface: the surface-feature test (surface_test)."""
        min_count = params.min_count
        min_prec = float(params.min_precision)
        alpha = float(params.alpha)
        prior = np.array([label_counts[c] for c in classes], float) / n_rows
        affixes = affix_findings(affix_counts or {}, classes, prior, min_count, min_prec, alpha)
        tokens, tested = _token_findings(classes, prior, vocab, joint, digests, min_count, min_prec, alpha)
        artefacts = [f for f in tokens if is_artefact(f)]
        refs = refs_of([(f["token"], f["label"]) for f in artefacts[: params.max_findings]])
        for f in artefacts[: params.max_findings]:
            f["rows"] = refs[(f["token"], f["label"])]
        words = [f for f in tokens if not is_artefact(f)]
        findings = []
        for f in artefacts[: params.max_findings]:
            f["kind"] = "artefact_token"
            f["message"] = (f"{f['token']!r} (not a word about the request) comes with {f['label']!r} in "
                            f"{f['precision']:.0%} of its {f['count']} rows (prior {f['prior']:.0%})")
            findings.append(f)
        findings += affixes
        if surface and surface.get("flagged"):
            findings.append(surface["finding"])
        label_words = [{k: f[k] for k in ("token", "label", "count", "precision", "prior", "z")}
                       for f in words[: params.max_label_words]]
        n_name = 0
        label_names = []
        for lab in classes:
            if lab not in name_hits:
                continue
            refs, k, present = name_hits[lab]
            n_name += k
            label_names.append({"label": lab, "rows": k, "rows_naming_it": present,
                                "precision": round(k / present, 4), "examples": refs[:5]})
        return CheckResult(summary={"rows": n_rows, "tokens_tested": tested,
                                    "shortcut_tokens": len(artefacts), "affix_shortcuts": len(affixes),
                                    "surface_shortcut": int(bool(surface and surface.get("flagged"))),
                                    "surface_lift": surface.get("lift") if surface else None,
                                    "label_words": len(words), "label_name_rows": n_name,
                                    "label_name_rate": n_name / n_rows if n_rows else 0.0},
                           findings=findings,
                           info={"test": "one-sided z-test of p(label|token) vs prior, Bonferroni", "alpha": alpha,
                                 "min_count": min_count, "min_precision": min_prec,
                                 "bonferroni_alpha": alpha / max(tested, 1) if tested else None,
                                 "label_words": label_words, "label_names": label_names,
                                 "surface": {k: v for k, v in (surface or {}).items() if k != "finding"},
                                 "note": "label words define their class and are what a model should learn: "
                                         "shown for reading, never a warning"})


def _flagged_keys(analyze, flagged: frozenset, text: str, norm: str, label) -> list[tuple]:
    """A row's keys for the flagged tokens it holds: (token, label)."""
    return [(t, label) for t in sorted(set(analyze(norm)) & flagged)]


def _name_and_affix_keys(classes: tuple[str, ...], text: str, norm: str, label) -> list[tuple]:
    """A row's keys for the label-name scan, ("name", a label it names, whether it is its own), and for
    its delimited prefix and suffix, ("affix", kind, affix, its label)."""
    keys: list[tuple] = [("name", c, own) for c, own in label_names_in(norm, label, classes)]
    keys += [("affix", kind, affix, label) for kind, affix in zip(("prefix", "suffix"), affixes_of(text))
             if affix is not None]
    return keys


def _token_findings(classes, prior, vocab, joint, digests, min_count, min_prec, alpha) -> tuple[list[dict], int]:
    """Tokens whose p(label | token) is significantly above the prior, merged when they occur in exactly
    the same rows (equal digests of their row sets), strongest first; and how many (token, label) pairs
    were tested."""
    from scipy.stats import norm

    if not len(vocab):
        return [], 0
    findings = []
    count = joint.sum(axis=1)
    precision = joint / count[:, None]
    z = (precision - prior[None, :]) / np.sqrt(prior * (1 - prior) / count[:, None])
    tested = joint.size
    pvals = norm.sf(z)
    hit = (precision >= min_prec) & (pvals < alpha / max(tested, 1)) & (count[:, None] >= min_count)
    for t, j in zip(*np.nonzero(hit)):
        findings.append({"token": vocab[t], "label": classes[j], "count": int(count[t]),
                         "precision": round(float(precision[t, j]), 4), "prior": round(float(prior[j]), 4),
                         "z": round(float(z[t, j]), 2), "p_value": float(pvals[t, j]),
                         "row_count": int(joint[t, j])})
    findings.sort(key=lambda f: (-f["z"], -len(f["token"])))
    # Tokens that occur in exactly the same rows ("[", "whatsapp", "[ whatsapp ]") are one finding.
    merged: dict[tuple, dict] = {}
    for f in findings:
        key = (f["label"], f["count"], digests[f["token"]])
        if key in merged:
            keep = merged[key]
            keep.setdefault("aliases", []).append(f["token"])
            # Name the finding by its core word: the shortest alias that has a letter or digit.
            if _core(f["token"]) < _core(keep["token"]):
                keep["aliases"][-1], keep["token"] = keep["token"], f["token"]
            continue
        merged[key] = f
    return drop_subsumed(list(merged.values())), tested


# Tokens that carry no meaning about the request: markup and tag symbols, ids (letters and digits in one
# token of five or more characters: "ab123", "a7f3c"), web addresses. Punctuation of ordinary writing
# ("carry-on", "w-2", "$250", "2+2", "yes,") is not an artefact by itself: it belongs to the words; nor is
# a lone "=", which writes notation ("U = 3", an asteroid's lightcurve code, judged on DBpedia), where
# "==" and "|name=" are markup.
_TAG_SYMBOL = re.compile(r"[\[\]<>{}|#@_/\\~^*]|={2,}|--|\.\.\.")
_ID = re.compile(r"(?=[a-z]*\d)(?=\d*[a-z])[a-z\d]{5,}")
_WEB = frozenset({"http", "https", "www", "com", "html", "nbsp", "amp", "href", "utm"})


def is_artefact_token(part: str) -> bool:
    return bool(_TAG_SYMBOL.search(part) or _ID.fullmatch(part) or part in _WEB)


# A mention or a hashtag as the tokenizer splits it: "@Olivia_Rodrigo" -> "@ olivia_rodrigo".
_MENTION = re.compile(r"[@#] (\w+)")


def is_artefact(finding: dict) -> bool:
    """A token finding whose token (or a token on exactly the same rows) holds a tag symbol, an id or
    markup. A mention or a hashtag is a name, not markup: "@Manchester_United", "#cryptocurrency" say
    who or what the text is about, as a proper noun does (judged on real tweets: 6 of 10 handle findings
    were the topic itself). Its "@" or "#", its "_" and a bigram with the bare "@" ("president @") are
    no artefact; an id-like name ("@ab12345") or a web address beside it still is."""
    tokens = [finding["token"], *finding.get("aliases", [])]
    names = {m.group(1) for t in tokens if (m := _MENTION.fullmatch(t))}
    parts = [part for token in tokens for part in token.split()
             if part not in names and not (part in ("@", "#") and (names or " " in token))]
    if names and any(_ID.fullmatch(n) for n in names):
        return True
    return any(is_artefact_token(part) for part in parts)


def drop_subsumed(findings: list[dict]) -> list[dict]:
    """Bigram findings whose word is already a finding for the same label ("flight ab123" beside
    "ab123") say nothing more."""
    single = {(f["label"], f["token"]) for f in findings if " " not in f["token"]}
    return [f for f in findings if " " not in f["token"]
            or not any((f["label"], part) in single for part in f["token"].split())]


VECTORIZER = {"binary": True, "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b|[^\w\s]+"}


def _label_pattern(c: str):
    return re.compile(r"\b" + re.escape(c.replace("_", " ").replace("-", " ").casefold()) + r"\b")


_NAME_WORDS = re.compile(r"\w+")


class LabelNames:
    """Which label names a text mentions, in one pass over its words: names made of words are looked up
    as word n-grams (a regex per label over every row took 42 s for 5k labels); any other name keeps its
    regex."""

    def __init__(self, classes: list[str]):
        self.classes = list(classes)
        self.by_words: dict[tuple[str, ...], list[str]] = {}
        self.other = []
        for c in self.classes:
            flat = c.replace("_", " ").replace("-", " ").casefold()
            words = tuple(_NAME_WORDS.findall(flat))
            if words and " ".join(words) == " ".join(flat.split()):
                self.by_words.setdefault(words, []).append(c)
            else:
                self.other.append((c, _label_pattern(c)))
        self.lengths = sorted({len(w) for w in self.by_words if len(w) > 1})
        self.single = {w[0]: cs for w, cs in self.by_words.items() if len(w) == 1}
        self.first_words = {w[0] for w in self.by_words if len(w) > 1}

    def mentioned(self, text: str) -> set[str]:
        flat = text.replace("_", " ").replace("-", " ")
        words = _NAME_WORDS.findall(flat)
        hits: set[str] = set()
        for w in self.single.keys() & set(words):
            hits.update(self.single[w])
        if self.first_words and not self.first_words.isdisjoint(words):
            for n in self.lengths:
                for i in range(len(words) - n + 1):
                    if words[i] in self.first_words:
                        hits.update(self.by_words.get(tuple(words[i:i + n]), ()))
        hits.update(c for c, rx in self.other if rx.search(flat))
        return hits


@lru_cache(maxsize=4)
def _label_names(classes: tuple[str, ...]) -> LabelNames:
    return LabelNames(list(classes))


def label_names_in(text: str, own: str, classes: tuple[str, ...]) -> list[tuple[str, bool]]:
    """The labels whose name the text mentions, each with whether it is the row's own label."""
    hits = _label_names(classes).mentioned(text)
    return [(c, c == own) for c in classes if c in hits]


# ---- delimited prefixes and suffixes ----------------------------------------------------------------
_HEAD = re.compile(r"[:|>\]]|\s-{1,2}\s")
_TAIL = re.compile(r"\n|\s-{1,2}\s|\|")
_DIGITS = re.compile(r"\d+")


def affixes_of(text: str) -> tuple[str | None, str | None]:
    """A short header set off by a delimiter at the start ("[WhatsApp]", "Re:", "ticket #12 |") and a
    footer after the last delimiter at the end ("-- sent from my phone"), digits masked, casefolded."""
    prefix = suffix = None
    m = _HEAD.search(text, 0, 40)
    if m and m.start() > 0 and len(text[:m.start()].split()) <= 4 and text[m.end():].strip():
        prefix = _DIGITS.sub("#", " ".join(text[:m.end()].casefold().split()))
    tail = None
    for tail in _TAIL.finditer(text):
        pass
    if tail is not None and 0 < len(text) - tail.end() <= 60 and text[:tail.start()].strip():
        rest = text[tail.start():]
        if len(rest.split()) <= 8:
            suffix = _DIGITS.sub("#", " ".join(rest.casefold().split()))
    return prefix, suffix


def affix_findings(counts: dict[tuple[str, str, str], list], classes: list[str], prior: np.ndarray,
                   min_count: int, min_prec: float, alpha: float) -> list[dict]:
    """counts: (kind, affix, label) -> [rows, first refs]. An affix that predicts one label (same test as
    tokens, Bonferroni over the affixes seen) is an artefact finding."""
    from scipy.stats import norm

    totals: dict[tuple[str, str], int] = {}
    for (kind, affix, _lab), (k, _refs) in counts.items():
        totals[(kind, affix)] = totals.get((kind, affix), 0) + k
    tests = max(len(totals) * len(classes), 1)
    out = []
    for (kind, affix, lab), (k, refs) in sorted(counts.items()):
        total = totals[(kind, affix)]
        p0 = prior[classes.index(lab)]
        if total < min_count or k / total < min_prec or p0 >= 1:
            continue
        z = (k / total - p0) / np.sqrt(p0 * (1 - p0) / total)
        pval = float(norm.sf(z))
        if pval < alpha / tests:
            out.append({"kind": f"artefact_{kind}", "token": affix, "label": lab, "count": total,
                        "precision": round(k / total, 4), "prior": round(float(p0), 4), "z": round(float(z), 2),
                        "p_value": pval, "rows": refs[:20], "row_count": k,
                        "message": f"rows {'starting with' if kind == 'prefix' else 'ending with'} {affix!r} "
                                   f"carry {lab!r} in {k / total:.0%} of {total} (prior {p0:.0%})"})
    return out


def surface_sample(n: int, max_rows: int) -> list[int]:
    """Evenly spaced row positions, at most max_rows: the same rows in both engines."""
    if n <= max_rows:
        return list(range(n))
    return np.linspace(0, n - 1, max_rows).astype(int).tolist()


# ---- surface features -------------------------------------------------------------------------------
SURFACE_FEATURES = ("chars", "words", "punctuation_share", "ends_with_question_mark", "ends_with_period",
                    "ends_with_exclamation", "uppercase_share", "starts_uppercase", "trailing_whitespace",
                    "leading_whitespace", "newlines", "non_ascii_share", "digit_share")


def surface_features(text: str) -> list[float]:
    """Features of a row's form, not its words: what a classifier could learn without reading."""
    stripped = text.strip()
    letters = [c for c in text if c.isalpha()]
    n = max(len(text), 1)
    return [float(np.log1p(len(text))), float(len(text.split())),
            sum(1 for c in text if not c.isalnum() and not c.isspace()) / n,
            float(stripped.endswith("?")), float(stripped.endswith(".")), float(stripped.endswith("!")),
            sum(1 for c in letters if c.isupper()) / max(len(letters), 1), float(stripped[:1].isupper()),
            float(text != text.rstrip()), float(text != text.lstrip()), float(text.count("\n")),
            sum(1 for c in text if ord(c) > 127) / n, sum(1 for c in text if c.isdigit()) / n]


def surface_test(features: np.ndarray, labels: list[str], refs: list[dict], params: Shortcuts.Params) -> dict:
    """Out-of-fold accuracy of a shallow tree on the surface features alone against always answering the
    most common label. lift = (accuracy - prior) / (1 - prior); flagged when the lift reaches
    min_surface_lift and a one-sided binomial test beats the prior at alpha."""
    from scipy.stats import binomtest
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.tree import DecisionTreeClassifier

    y = np.asarray(labels)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2 or len(y) < 50:
        return {"tested": False, "reason": "fewer than 50 rows or one label"}
    folds = int(min(5, counts.min())) if counts.min() >= 2 else 0
    if folds < 2:
        keep = np.isin(y, classes[counts >= 2])
        features, y, refs = features[keep], y[keep], [r for r, k in zip(refs, keep) if k]
        classes, counts = np.unique(y, return_counts=True)
        folds = int(min(5, counts.min())) if len(counts) else 0   # no label left with two rows
        if len(classes) < 2 or folds < 2:
            return {"tested": False, "reason": "too few rows per label"}
    tree = DecisionTreeClassifier(max_depth=4, min_samples_leaf=max(5, len(y) // 500), random_state=0)
    pred = cross_val_predict(tree, features, y, cv=StratifiedKFold(folds, shuffle=True, random_state=0))
    correct = int((pred == y).sum())
    accuracy = correct / len(y)
    prior = float(counts.max() / len(y))
    lift = (accuracy - prior) / (1 - prior)
    pval = float(binomtest(correct, len(y), prior, alternative="greater").pvalue)
    importances = tree.fit(features, y).feature_importances_
    top = [SURFACE_FEATURES[i] for i in np.argsort(-importances)[:3] if importances[i] >= 0.1]
    out = {"tested": True, "rows": int(len(y)), "accuracy": round(accuracy, 4), "prior": round(prior, 4),
           "lift": round(float(lift), 4), "p_value": pval, "features": top,
           "flagged": bool(lift >= params.min_surface_lift and pval < params.alpha)}
    if out["flagged"]:
        wrong_free = [refs[i] for i in np.flatnonzero(pred == y)[:20]]
        out["finding"] = {"kind": "surface", "token": ", ".join(top), "features": top,
                          "accuracy": out["accuracy"], "prior": out["prior"], "lift": out["lift"],
                          "p_value": pval, "rows": wrong_free,
                          "message": f"the label can be guessed from the rows' form alone ({', '.join(top)}): "
                                     f"{accuracy:.0%} right against {prior:.0%} always answering the commonest label"}
    return out
