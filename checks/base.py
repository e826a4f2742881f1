"""What a check is: a small class whose `run` returns plain data. It never decides pass or fail:
the policy does that afterwards from the summary (deepchecks' "conditions", kept out of the check)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from harness.core.params import Params, param  # noqa: F401 - for checks to declare their parameters
from harness.core.declarations import Answer, Chart  # noqa: F401 - for checks to declare what the report shows
from harness.core.registry import Registry
from harness.core.status import HIGHER, LOWER, lower_is_better  # noqa: F401 - for checks to declare metrics

if TYPE_CHECKING:  # pragma: no cover
    from harness.auditing.audit_data import AuditData


@dataclass
class CheckResult:
    """summary: flat numbers the policy can test; findings: each with `rows` ([{split, line}]) and a
    `message`, plus the check's own fields (similarity, score, kind, ...); info: how it was computed."""

    summary: dict[str, Any]
    findings: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)
    # Words that identify what the check found (a password, an e-mail's user name), to be masked in every
    # output however the text around them was normalised; never written anywhere itself.
    redact: frozenset[str] = frozenset()
    # Why the check does not apply to this data (then its status is `skipped`, this its reason); None: it applied.
    skipped: str | None = None


def unlisted_rows(findings: list[dict[str, Any]], limit: int) -> dict[str, Any]:
    """What a capped findings list leaves out, for `info`: the total, and the training rows of every
    finding past the cap ([[line, ...], ...]), so `harness clean` removes every flagged row, not only the
    listed ones."""
    rest = findings[limit:]
    return {"findings_total": len(findings),
            "unlisted_rows": [[r["line"] for r in f.get("rows", []) if r.get("split") == "train"] for f in rest]}


def not_applicable(reason: str) -> CheckResult:
    """The result of a check that does not apply to this data: status `skipped`, `reason` saying why (the
    summary keeps `applicable: false` and the reason for readers of the first results schema)."""
    return CheckResult(summary={"applicable": False, "reason": reason}, skipped=reason)


class Check:
    name: ClassVar[str]
    title: ClassVar[str]
    why: ClassVar[str]  # one sentence for reports: why this matters for a fine-tune
    # Summary keys a policy may put rules on, each with its better direction: {"bad_rate": LOWER, ...}
    # (LOWER, HIGHER, or None for a figure that is only described); a tuple of names means each is lower
    # is better (a check counts problems). The contract test holds every check to them, and a policy rule
    # must agree with the direction (harness/core/status.py).
    metrics: ClassVar[dict[str, str | None] | tuple[str, ...]] = ()
    # The few summary figures worth a glance in a terminal table (the rest is in audit.json).
    key_figures: ClassVar[tuple[str, ...]] = ()
    # Where the check runs and is shown among the others (lower first); a plug-in's default is last.
    order: ClassVar[int] = 1000
    # What `harness clean` does with the training rows the findings name: "all" go, "all_but_first" keeps
    # each finding's first row (a duplicate group's original), None keeps them (the finding is advice).
    # The audit writes it into each check's entry, so clean needs the audit.json alone.
    removes: ClassVar[str | None] = None
    # What its findings cannot show, in a sentence each: the report's "known limitations" when it ran.
    limitations: ClassVar[tuple[str, ...]] = ()
    # What the report shows of its results beyond its own table (harness/core/declarations.py), copied into its
    # entry: charts drawn from its entry by path, and the checklist questions its figures answer.
    charts: ClassVar[tuple[Chart, ...]] = ()
    answers: ClassVar[tuple[Answer, ...]] = ()
    # Its parameters, declared once (harness/core/params.py): type, default, range and meaning of each. The
    # policy's `checks.<name>.params` override the defaults; `run` gets the built instance.
    Params: ClassVar[type[Params]] = Params

    def run(self, data: AuditData, params: Params) -> CheckResult:  # pragma: no cover - interface
        raise NotImplementedError


class GenerativeCheck(Check):
    """A check of completions, for generative data: the outputs of labelled (or label-like) data are
    the class checks' business. `judge` reads the training rows' answers through `Answers`: the set's
    figures first (counted where the rows are), then a per-row decision against them, so on Spark only
    figures and flagged rows reach the driver."""

    skip_empty: ClassVar[bool] = True  # empty outputs are the length check's finding

    def run(self, data: AuditData, params: Params) -> CheckResult:
        if data.label_source is not None:
            return not_applicable("the outputs are labels (the class checks cover them)")
        answers = Answers(data, self.skip_empty)
        if not answers.n:
            return not_applicable("no training rows with an output")
        return self.judge(answers, params, data.token_counter[0])

    def judge(self, answers: Answers, params: Params, count: Any = None) -> CheckResult:  # pragma: no cover - interface
        raise NotImplementedError


class Answers:
    """The training rows that have an output (a non-empty one unless the check reads empty ones too), as
    the engine's map-and-reduce operations (harness/auditing/engine.py) see them: each function gets
    (input, output) of those rows only. Functions must be picklable (the Spark engine ships them)."""

    def __init__(self, data: AuditData, skip_empty: bool = True):
        self.data, self.skip_empty = data, skip_empty

    def count(self, keys, min_rows: int = 1, first: int = 0) -> dict[Any, tuple[int, list[dict]]]:
        return self.data.count_keys("train", _OnAnswers(keys, self.skip_empty, ()), min_rows, first)

    def distinct(self, pairs) -> dict[Any, int]:
        return self.data.distinct_counts("train", _OnAnswers(pairs, self.skip_empty, ()))

    def scan(self, fn) -> list[tuple[dict, Any]]:
        return self.data.scan_answers("train", _OnAnswers(fn, self.skip_empty, None))

    @cached_property
    def n(self) -> int:
        """How many rows have an output (one counting pass, kept)."""
        return self.count(_one).get("rows", (0,))[0]


def _one(text: str, output: str) -> tuple[str]:
    return ("rows",)


@dataclass(frozen=True)
class _OnAnswers:
    """fn on the rows with an output, `none` (no keys, no finding) on the others."""

    fn: Any
    skip_empty: bool
    none: Any

    def __call__(self, text: str, output: Any, rejected: Any = None) -> Any:
        if output is None or (self.skip_empty and not output.strip()):
            return self.none
        return self.fn(text, output)


REGISTRY = Registry("check", "harness.checks", "finetune_harness.checks")
register = REGISTRY.register
get_check = REGISTRY.lookup
all_checks = REGISTRY.names
