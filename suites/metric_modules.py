"""Task metrics as `evaluate` modules shipped inside the package (suites/metrics/<name>/<name>.py):
`evaluate.load("accuracy")` fetches from the hub and cannot work offline. A user names a built-in
metric or the directory of their own module."""

from __future__ import annotations

import importlib.util
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

BUILTIN_DIR = Path(__file__).with_name("metrics")


def builtin_names() -> list[str]:
    return sorted(p.name for p in BUILTIN_DIR.iterdir() if (p / f"{p.name}.py").is_file())


def _path(name: str) -> Path:
    from harness.core.errors import UsageError
    from harness.core.hints import closest

    if (BUILTIN_DIR / name / f"{name}.py").is_file():
        return BUILTIN_DIR / name
    path = Path(name)
    if path.is_dir() and (path / f"{path.name}.py").is_file():
        return path
    hint = closest(name, builtin_names())
    raise UsageError(f"unknown metric {name!r}: not a built-in ({', '.join(builtin_names())}) nor a directory "
                     f"holding <name>/<name>.py" + (f"; did you mean {hint!r}?" if hint else ""))


@lru_cache(maxsize=None)
def load(name: str) -> Any:
    import evaluate

    os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
    return evaluate.load(str(_path(name)))


def compute(name: str, predictions: list[Any], references: list[Any]) -> dict[str, float]:
    return {k: float(v) for k, v in load(name).compute(predictions=predictions, references=references).items()}


@lru_cache(maxsize=None)
def module_file(name: str) -> Any:
    """The metric's Python file as a module, for its per-row helpers (row_f1, parse_object)."""
    path = _path(name) / f"{Path(name).name}.py"
    spec = importlib.util.spec_from_file_location(f"harness_metric_{Path(name).name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
