"""What a suite is: a small class whose `run` scores base and tuned on its items through the pair and
returns plain data (per metric: base, tuned, delta, interval, p, n). It never decides pass or fail:
the gate policy does that afterwards (harness/comparing/gate.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from harness.core.declarations import Answer, Chart  # noqa: F401 - for suites to declare what the report shows
from harness.core.params import Params
from harness.core.registry import Registry
from harness.core.status import HIGHER, LOWER, lower_is_better  # noqa: F401 - for suites to declare their metrics

if TYPE_CHECKING:  # pragma: no cover
    from harness.inputs.data import Example
    from harness.comparing.paired import Pair


@dataclass
class Context:
    """Everything a suite may use: the pair, the task's rows rendered as in training, the policy's
    parameters for this suite, and a seed for every bootstrap."""

    pair: Pair
    shape: str
    labels: list[str]
    train: list[Example]
    eval: list[Example]
    prompt_template: str
    system: str | None
    max_seq_len: int
    seed: int = 0
    probe_dir: Any = None
    extra_prompts: list[dict[str, Any]] = field(default_factory=list)  # the user's --prompts, read
    extra_probes: list[str] = field(default_factory=list)  # the user's --probes files, as paths
    shared: dict[str, Any] = field(default_factory=dict)  # results one suite leaves for another
    # Every registered suite's parameters by name, whether or not it runs: a suite that extends another
    # (baselines and slices score the task suite's rows) reads that one's.
    params: dict[str, Params] = field(default_factory=dict)

    @property
    def form(self):
        """What the task's shape is (harness/inputs/shapes.py: `labelled`, `paired`, `whole_text`...): suites
        ask it, not the shape's name, so a registered shape gets the behaviour its declaration says."""
        from harness.inputs.shapes import get_shape

        return get_shape(self.shape)


@dataclass
class SuiteResult:
    """What a suite's `run` returns. metrics: {name: metric(...)}; info: how it was computed; rows: rows
    worth showing (each with split and line). The gate decides the suite's status from the metrics."""

    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    # Why the suite does not apply to this run (then its status is `skipped`, this its reason); None: it applied.
    skipped: str | None = None


def metric(base: Any = None, tuned: Any = None, delta: Any = None, interval: Any = None, p: Any = None,
           n: Any = None, **extra: Any) -> dict[str, Any]:
    """One figure as every suite reports it (None where it does not apply)."""
    return {"base": base, "tuned": tuned, "delta": delta, "interval": interval, "p": p, "n": n, **extra}


class Suite:
    name: ClassVar[str]
    title: ClassVar[str]
    why: ClassVar[str]
    version: ClassVar[int] = 1
    # Metric names a gate may test, each with its better direction: {"accuracy": HIGHER, "kl": LOWER, ...}
    # (None: neither, e.g. a ratio kept in a band); a gate rule must agree with it (harness/core/status.py). A
    # tuple of names declares no direction. Forgetting adds one per probe set ("forgetting.<probe>.accuracy").
    metrics: ClassVar[dict[str, str | None] | tuple[str, ...]] = ()
    # The metrics a terminal table shows (empty: all of them); results.json always has every one.
    key_figures: ClassVar[tuple[str, ...]] = ()
    # Where the suite runs and is shown among the others (lower first); a plug-in's default is last.
    order: ClassVar[int] = 1000
    # Its parameters (harness/core/params.py): types, defaults and ranges; the gate policy's suites.<name>.params
    # override them, and `run` gets the instance.
    Params: ClassVar[type[Params]] = Params
    # What its figures cannot show, in a sentence each: the report's "known limitations" when it ran.
    limitations: ClassVar[tuple[str, ...]] = ()
    # What the report shows of its results beyond its own table (harness/core/declarations.py), copied into its
    # entry: charts drawn from its entry by path, the checklist questions it answers, and the parts of the
    # gate and report that read its info in their own layout ("output_kind", "worth_it", ...: FEEDS).
    charts: ClassVar[tuple[Chart, ...]] = ()
    answers: ClassVar[tuple[Answer, ...]] = ()
    feeds: ClassVar[tuple[str, ...]] = ()

    @property
    def key(self) -> str:
        return f"{self.name}:{self.version}"

    def run(self, ctx: Context, params: Any) -> SuiteResult:  # pragma: no cover - interface
        """-> SuiteResult(metrics={name: metric(...)}, info={...}, rows=[...]), or not_applicable(reason)."""
        raise NotImplementedError


REGISTRY = Registry("suite", "harness.suites", "finetune_harness.suites")
register = REGISTRY.register
get_suite = REGISTRY.lookup
all_suites = REGISTRY.names


def not_applicable(reason: str, info: dict[str, Any] | None = None) -> SuiteResult:
    """The result of a suite that does not apply to this run: status `skipped`, `reason` saying why; `info`:
    what it found out first (its info keeps `applicable: false` and the reason for first-release readers)."""
    return SuiteResult(info={**(info or {}), "applicable": False, "reason": reason}, skipped=reason)
