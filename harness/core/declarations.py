"""What a plug-in declares about its results so that the rest of the harness reads them without knowing
its name (issue 31.1: a new check or suite is one file): the charts its results feed, the checklist
questions its figures answer, and the parts of the gate and report that read its info in a layout they
document. The audit and compare copy these declarations into each entry of their results, so the report
draws from the JSON alone and needs no change for a new plug-in."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Iterable, Mapping

CHART_KINDS = ("bars", "histogram", "intervals", "reliability")

# The report's checklist in its order: an Answer names one of these keys, or asks a question in words of
# its own (asked after these). "Training data documented?" is the report's own, asked before personal_data.
# How each is read (reports/view.py: _checklist): labelling, clean_eval, personal_data and a plug-in's own
# question by the Answer's figure (0: yes); task_defined and per_class from label counts in info.train
# (summary.classes, summary.rarest_label); evaluated from the suite's metrics; beats_prompting from
# info.worth_it; confident_wrong from info.confident_wrong and info.confident_threshold.
QUESTIONS = {
    "task_defined": "Is the task narrow and well defined?",
    "per_class": "Enough examples per class?",
    "labelling": "Is the labelling consistent?",
    "clean_eval": "Held-out evaluation, clean of leakage?",
    "evaluated": "Evaluated against the base on held-out rows?",
    "beats_prompting": "Does it beat prompting (few-shot, retrieval)?",
    "confident_wrong": "Confident-but-wrong answers measured?",
    "personal_data": "Free of personal data and secrets?",
}

# What a suite's `feeds` may name: a part that reads its info in a layout of the part's own.
FEEDS = {
    "output_kind": "the gate's task rules (harness/comparing/gate.py): info.output_kind, or info.shape 'classification'",
    "worth_it": "the report's 'Was fine-tuning worth it?': info.table, info.worth_it, info.metric, info.k",
    "hidden_regression": "the report's slice warning: the metrics worst.*, info.overall.delta",
}


def _plain(obj: Any) -> dict[str, Any]:
    """The declaration as JSON data, without the fields left at their defaults (audit.json stays small)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj) if getattr(obj, f.name) != f.default}


@dataclass(frozen=True)
class Chart:
    """One chart drawn from the plug-in's results entry, found by path; the report draws it with no code
    of the plug-in's. `data` is a dotted path into the entry ("info.train", "findings", "metrics")."""

    kind: str               # one of CHART_KINDS
    title: str              # the heading above it
    data: str
    alt: str = ""           # the drawing's own title, read by screen readers (default: the heading)
    order: int = 1000       # place among the report's charts (lower first)
    # bars: from a {label: value} map (None values left out); from a list of rows by `label` and `value`
    # keys (rows without the value left out); or, with `sizes`, how many items have each length of that key.
    label: str = ""
    value: str = ""
    sizes: str = ""
    largest_first: bool = False
    limit: int = 0          # the first this many bars (0: all)
    color: str = ""         # default: the report's bar colour
    marker: str = ""        # histogram of a {counts, edges} map: a figure's path, a line named by its last part
    suffix: str = ""        # intervals: the metrics whose names end so, labelled by the rest of the name

    def __post_init__(self) -> None:
        if self.kind not in CHART_KINDS:
            raise ValueError(f"chart {self.title!r}: kind must be one of {', '.join(CHART_KINDS)}, not {self.kind!r}")

    def plain(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class Answer:
    """A checklist question the plug-in's results answer. `figure` (a dotted path into its entry, such as
    "summary.rows_with_pii") counts what stands against a yes, described by `says`; a question the
    report reads in a layout of its own (reports/view.py) needs neither."""

    question: str           # a key of QUESTIONS, or a question in words
    figure: str = ""
    says: str = ""

    def plain(self) -> dict[str, Any]:
        return _plain(self)


def declarations(cls: type) -> dict[str, Any]:
    """A plug-in class's declarations as its results entry carries them."""
    out = {"charts": [c.plain() for c in getattr(cls, "charts", ())],
           "answers": [a.plain() for a in getattr(cls, "answers", ())]}
    if hasattr(cls, "feeds"):
        out["feeds"] = list(cls.feeds)
    return out


def at(entry: Any, path: str) -> Any:
    """The value at a dotted path of a results entry (None where it is missing)."""
    value = entry
    for key in path.split(".") if path else [None]:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def feeding(entries: Iterable[Mapping[str, Any]], part: str) -> Mapping[str, Any]:
    """The first results entry whose plug-in feeds `part` (FEEDS); {} when none ran."""
    return next((e for e in entries if part in (e.get("feeds") or ())), {})


def answering(entries: Iterable[Mapping[str, Any]], question: str) -> list[tuple[Mapping[str, Any], dict[str, Any]]]:
    """(entry, its answer) for every results entry whose plug-in answers `question`, in results order."""
    return [(e, a) for e in entries for a in e.get("answers") or () if a.get("question") == question]
