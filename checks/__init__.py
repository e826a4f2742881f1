"""Audit checks, one per file, registered by name. Adding a check: a new file here with a class
decorated by @register, its parameters in a nested `Params` dataclass (harness/core/params.py) and its rules
under `checks:` in harness/auditing/default_policy.yaml; another package adds one through the
`finetune_harness.checks` entry point group (harness/core/registry.py)."""

from __future__ import annotations

from .base import (HIGHER, LOWER, REGISTRY, Answer, Chart, Check, CheckResult, Params, all_checks, get_check,
                   lower_is_better, not_applicable, param, register)

__all__ = ["Answer", "Chart", "Check", "CheckResult", "HIGHER", "LOWER", "Params", "REGISTRY", "all_checks",
           "get_check", "lower_is_better", "not_applicable", "param", "register"]
