"""What a check is: a small class whose `run` returns plain data. It never decides pass or fail:
the policy does that afterwards from the summary (deepchecks' "conditions", kept out of the check)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from harness.registry import Registry

if TYPE_CHECKING:  # pragma: no cover
    from harness.audit_data import AuditData


@dataclass
class CheckResult:
    """summary: flat numbers the policy can test; findings: each with `rows` ([{split, line}]) and a
    `message`, plus the check's own fields (similarity, score, kind, ...); info: how it was computed."""

    summary: dict[str, Any]
    findings: list[dict[str, Any]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)


def not_applicable(reason: str) -> CheckResult:
    return CheckResult(summary={"applicable": False, "reason": reason})


class Check:
    name: ClassVar[str]
    title: ClassVar[str]
    why: ClassVar[str]  # one sentence for reports: why this matters for a fine-tune
    # Summary keys a policy may put conditions on (warn_if / fail_if); the contract test holds every
    # check to them.
    metrics: ClassVar[tuple[str, ...]] = ()
    # The few summary figures worth a glance in a terminal table (the rest is in audit.json).
    key_figures: ClassVar[tuple[str, ...]] = ()
    # Where the check runs and is shown among the others (lower first); a plug-in's default is last.
    order: ClassVar[int] = 1000

    def run(self, data: AuditData, params: dict[str, Any]) -> CheckResult:  # pragma: no cover - interface
        raise NotImplementedError


REGISTRY = Registry("check", "harness.checks", "finetune_harness.checks")
register = REGISTRY.register
get_check = REGISTRY.lookup
all_checks = REGISTRY.names
