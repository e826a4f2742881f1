"""Plug-ins installed the way pip leaves them, for the tests that show a new check, suite or input format
is one file (issue 31.1): modules in a site directory beside a dist-info whose entry_points.txt names
them, found by importlib.metadata in a `harness` subprocess or, after the registries are emptied, in
this one. Nothing of the repository is written."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def install(site: Path, dist: str, modules: dict[str, str], entry_points: dict[str, dict[str, str]]) -> Path:
    """Write `modules` ({dotted module name: source}) into `site`, packages included, with the dist-info of
    distribution `dist` declaring `entry_points` ({group: {name: "module" or "module:Class"}}); returns `site`."""
    site.mkdir(parents=True, exist_ok=True)
    for name, source in modules.items():
        path = site.joinpath(*name.split(".")).with_suffix(".py")
        for package in path.relative_to(site).parents:
            if package.parts:
                (site / package).mkdir(exist_ok=True)
                (site / package / "__init__.py").touch()
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "".join(f"[{group}]\n" + "".join(f"{n} = {target}\n" for n, target in points.items()) + "\n"
                for group, points in entry_points.items()), encoding="utf-8")
    return site


def load_here(monkeypatch, site: Path, *modules: str) -> None:
    """Put `site` on this process's path and empty every plug-in registry (restored after the test), so
    the next lookup imports the built-ins again and reads the entry points anew, `site`'s included."""
    from harness.checks import REGISTRY as CHECKS
    from harness.inputs.readers import REGISTRY as FORMATS
    from harness.suites import REGISTRY as SUITES

    monkeypatch.syspath_prepend(str(site))
    for name in modules:
        monkeypatch.delitem(sys.modules, name, raising=False)
    for registry in (CHECKS, SUITES, FORMATS):
        registry.names()  # the built-ins first, so that the copy below holds them
        monkeypatch.setattr(registry, "_items", dict(registry._items))
        monkeypatch.setattr(registry, "_state", "empty")


def harness_cli(cwd: Path, site: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m harness ARGS` in `cwd`, with `site` on its path as an installed package would be."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)
