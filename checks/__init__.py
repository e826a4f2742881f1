"""Audit checks, one per file, registered by name. Adding a check: a new file here with a class
decorated by @register and an entry under `checks:` in harness/default_policy.yaml; another package
adds one through the `finetune_harness.checks` entry point group (harness/registry.py)."""

from __future__ import annotations

from .base import (HIGHER, LOWER, REGISTRY, Check, CheckResult, all_checks, get_check, lower_is_better, not_applicable,
                   register)

__all__ = ["Check", "CheckResult", "HIGHER", "LOWER", "REGISTRY", "all_checks", "get_check", "lower_is_better",
           "not_applicable", "register"]
