"""Plug-ins by name, filled the same way for checks and suites (cleanlab's detectors registered by name;
lm-eval's lazy registry with entry points and "did you mean" errors).

A registry is filled on first use: every module of its package is imported (a plug-in class registers
itself with `@register`), then every entry point of its group, so that a user's package adds a check or a
suite by declaring one in its own pyproject.toml:

    [project.entry-points."finetune_harness.checks"]
    my_check = "my_package.my_check"          # a module holding @register'd classes, or a class

Nothing is imported before something asks for a name, so loading the checks does not load torch.

A registry without a package (input formats, row shapes: harness/inputs/readers.py, harness/inputs/shapes.py) holds
the plug-ins its own module registers, then its group's entry points."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache
from importlib.metadata import entry_points
from typing import Any, Iterator, TypeVar

from harness.core.errors import UsageError
from harness.core.hints import did_you_mean

T = TypeVar("T", bound=type)


class Registry:
    def __init__(self, kind: str, package: str | None, group: str) -> None:
        self.kind = kind          # "check" / "suite" / "format" / "shape", for messages
        self.package = package    # whose modules are discovered (None: the registering module alone)
        self.group = group        # the entry point group of other packages' plug-ins
        self._items: dict[str, type] = {}
        self._state = "empty"     # empty -> loading -> loaded

    def register(self, cls: T) -> T:
        """Class decorator: add a plug-in under its `name`."""
        known = self._items.get(cls.name)
        if known is not None and known is not cls and \
                (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
            raise UsageError(f"{self.kind} {cls.name!r} registered twice: by {known.__module__}.{known.__qualname__} "
                             f"and by {cls.__module__}.{cls.__qualname__}")
        self._items[cls.name] = cls
        return cls

    def _load(self) -> None:
        if self._state != "empty":
            return
        self._state = "loading"
        try:
            package = importlib.import_module(self.package) if self.package else None
            for module in pkgutil.iter_modules(package.__path__) if package else ():
                if not module.name.startswith("_") and module.name != "base" and not module.ispkg:
                    importlib.import_module(f"{self.package}.{module.name}")
            for ep in entry_points(group=self.group):
                try:
                    obj = ep.load()
                except Exception as exc:  # a broken plug-in is the installer's input, not our bug
                    raise UsageError(f"{self.kind} plug-in {ep.name!r} ({ep.value}, entry point group {self.group}) "
                                     f"failed to load: {type(exc).__name__}: {exc}") from None
                if isinstance(obj, type) and getattr(obj, "name", None):
                    self.register(obj)
        except BaseException:
            self._state = "empty"
            raise
        self._state = "loaded"

    # ---- reading ----------------------------------------------------------------------------------------
    def names(self) -> list[str]:
        """Every registered name in run and display order (each class's `order`, then its name)."""
        self._load()
        return sorted(self._items, key=lambda n: (getattr(self._items[n], "order", 1000), n))

    def lookup(self, name: str) -> Any:
        """The class registered as `name`; an unknown name is a usage error with a did-you-mean."""
        self._load()
        try:
            return self._items[name]
        except KeyError:
            raise UsageError(f"unknown {self.kind} {name!r}{did_you_mean(name, self.names())}") from None

    def __getitem__(self, name: str) -> Any:
        self._load()
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._load()
        return len(self._items)

    def items(self) -> list[tuple[str, Any]]:
        return [(n, self._items[n]) for n in self.names()]

    # Stateless plug-ins (shapes, row formats) are used as one shared instance each.
    def instance(self, name: str) -> Any:
        """The one instance of the class registered as `name` (unknown: a usage error, as lookup)."""
        return _one(self.lookup(name))

    def instances(self) -> list[Any]:
        """One instance of every registered class, in listing order."""
        return [_one(cls) for cls in self.values()]

    def values(self) -> list[Any]:
        return [self._items[n] for n in self.names()]


@lru_cache(maxsize=None)
def _one(cls: type) -> Any:
    return cls()
