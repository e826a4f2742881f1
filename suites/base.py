"""What a suite is: a small class whose `run` scores base and tuned on its items through the pair and
returns plain data (per metric: base, tuned, delta, interval, p, n). It never decides pass or fail:
the gate policy does that afterwards (harness/gate.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from harness.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from harness.data import Example
    from harness.paired import Pair


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
    task_params: dict[str, Any] = field(default_factory=dict)  # the task suite's, for suites that extend it


def metric(base: Any = None, tuned: Any = None, delta: Any = None, interval: Any = None, p: Any = None,
           n: Any = None, **extra: Any) -> dict[str, Any]:
    """One figure as every suite reports it (None where it does not apply)."""
    return {"base": base, "tuned": tuned, "delta": delta, "interval": interval, "p": p, "n": n, **extra}


class Suite:
    name: ClassVar[str]
    title: ClassVar[str]
    why: ClassVar[str]
    version: ClassVar[int] = 1
    # Metric names a gate may test; forgetting adds one per probe set ("forgetting.<probe>.accuracy").
    metrics: ClassVar[tuple[str, ...]] = ()
    # The metrics a terminal table shows (empty: all of them); results.json always has every one.
    key_figures: ClassVar[tuple[str, ...]] = ()
    # Where the suite runs and is shown among the others (lower first); a plug-in's default is last.
    order: ClassVar[int] = 1000

    @property
    def key(self) -> str:
        return f"{self.name}:{self.version}"

    def run(self, ctx: Context, params: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover - interface
        """-> {"metrics": {name: metric(...)}, "info": {...}, "rows": [...]}"""
        raise NotImplementedError


REGISTRY = Registry("suite", "harness.suites", "finetune_harness.suites")
register = REGISTRY.register
get_suite = REGISTRY.lookup
all_suites = REGISTRY.names


def not_applicable(reason: str) -> dict[str, Any]:
    return {"metrics": {}, "info": {"applicable": False, "reason": reason}, "rows": []}
