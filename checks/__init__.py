"""Audit checks, one per file, registered by name. Adding a check: a new file here with a class
decorated by @register and an entry under `checks:` in harness/default_policy.yaml."""

from __future__ import annotations

import importlib
import pkgutil

from .base import REGISTRY, Check, CheckResult, get_check, not_applicable, register

# The order in which checks run and are shown: the order, the data's own shape first.
ORDER = ["schema", "exact_duplicates", "near_duplicates", "label_conflicts", "label_errors", "leakage",
         "shortcuts", "pii", "length", "class_balance"]

for _mod in pkgutil.iter_modules(__path__):
    if not _mod.name.startswith("_") and _mod.name != "base":
        importlib.import_module(f"{__name__}.{_mod.name}")


def all_checks() -> list[str]:
    return sorted(REGISTRY, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))


__all__ = ["Check", "CheckResult", "REGISTRY", "all_checks", "get_check", "not_applicable", "register"]
