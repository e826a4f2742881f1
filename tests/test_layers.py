"""The house in layers, enforced from the import graph (an AST walk, every import including those inside
functions): core -> plug-ins (checks, suites) -> stages -> application; reports/ is imported by the
application alone; no import cycles. A failure names the offending import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The repo keeps checks/, suites/, reports/ at the top; they install as harness.checks, ... (pyproject).
FOLDERS = {"harness": "harness", "checks": "harness.checks", "suites": "harness.suites", "reports": "harness.reports"}

# harness/ in subpackages that say the layer and the stage (issue 31.7). A subpackage's modules are core
# (imported by plug-ins) unless named a stage or the application below.
SUBPACKAGES = {"core": "core", "inputs": "core", "model": "core", "auditing": "core", "comparing": "core",
               "training": "core", "app": "application"}
STAGES = {"auditing.auditor", "auditing.check_runner", "auditing.spark.audit", "auditing.policy", "auditing.clean",
          "training.trainer", "comparing.comparison", "comparing.gate"}
APPLICATION = {"", "__main__", "testing"}
LEVEL = {"core": 0, "plugin": 1, "stage": 2, "application": 3}


def modules() -> dict[str, Path]:
    found = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            if any(p in ("metrics", "probes", "prompts") for p in parts):  # data and their generator scripts
                continue
            found[".".join([package, *parts])] = path
    return found


MODULES = modules()


def layer(module: str) -> str:
    for package, name in (("harness.checks", "checks"), ("harness.suites", "suites"), ("harness.reports", "reports")):
        if module == package or module.startswith(package + "."):
            return name
    local = module[len("harness."):] if module.startswith("harness.") else ""
    if local in STAGES:
        return "stage"
    if local in APPLICATION:
        return "application"
    if local.split(".")[0] in SUBPACKAGES:
        return SUBPACKAGES[local.split(".")[0]]
    raise AssertionError(f"{module}: not placed in a layer (add it to tests/test_layers.py)")


def rank(name: str) -> int:
    return {"checks": 1, "suites": 1, "reports": 3}.get(name, LEVEL.get(name, 0))


def imports(module: str, path: Path) -> list[tuple[str, int]]:
    """(imported harness module, line) for every import in the file, resolved to a module in MODULES."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_pkg else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            for alias in node.names:  # `from pkg import submodule` imports the submodule
                targets.append(f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in MODULES else stem)
        for target in targets:
            for old, new in (("checks", "harness.checks"), ("suites", "harness.suites"), ("reports", "harness.reports")):
                if target == old or target.startswith(old + "."):
                    target = new + target[len(old):]  # a top-level import name: resolved, then refused below
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != module:
                out.append((target, node.lineno))
    return out


def test_harness_keeps_no_flat_modules():
    """A reader finds a stage's code in one subpackage: harness/ itself holds only the Python API, the
    `python -m harness` entry and the contract tests exported for plug-in authors."""
    flat = sorted(p.name for p in (ROOT / "harness").glob("*.py"))
    assert flat == ["__init__.py", "__main__.py", "testing.py"], flat
    for folder in SUBPACKAGES:
        assert (ROOT / "harness" / folder / "__init__.py").is_file(), folder


def test_no_top_level_plugin_packages_are_imported():
    bad = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            bad += [f"{path.relative_to(ROOT)}:{node.lineno}: import {n}" for n in names
                    if n.split(".")[0] in ("checks", "suites", "reports")]
    assert not bad, "import them as harness.checks / harness.suites / harness.reports:\n" + "\n".join(bad)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module):
    mine = layer(module)
    bad = []
    for target, line in imports(module, MODULES[module]):
        theirs = layer(target)
        if mine == theirs:
            continue  # within one layer (checks and suites are two)
        if theirs == "reports" and mine not in ("application", "reports"):
            bad.append(f"{MODULES[module].relative_to(ROOT)}:{line}: {module} ({mine}) imports {target}: "
                       "reports/ is imported by the application alone")
        elif mine in ("checks", "suites") and theirs != "core" and theirs != mine:
            bad.append(f"{MODULES[module].relative_to(ROOT)}:{line}: plug-in {module} imports {target} ({theirs}): "
                       "plug-ins import the core alone")
        elif mine == "reports" and theirs not in ("core", "reports"):
            bad.append(f"{MODULES[module].relative_to(ROOT)}:{line}: {module} (reports) imports {target} ({theirs})")
        elif theirs != "reports" and rank(theirs) > rank(mine):
            bad.append(f"{MODULES[module].relative_to(ROOT)}:{line}: {module} ({mine}) imports {target} ({theirs}), "
                       "a higher layer")
    assert not bad, "\n".join(bad)


def test_no_import_cycles():
    graph = {m: sorted({t for t, _ in imports(m, p)}) for m, p in MODULES.items()}
    # A submodule importing its own package's __init__ is how Python imports it anyway, not a cycle.
    graph = {m: [t for t in ts if not m.startswith(t + ".")] for m, ts in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for t in graph.get(m, []):
            if state.get(t) == 1:
                cycle = stack[stack.index(t):] + [t]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if t not in state:
                visit(t)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


def test_the_walk_sees_lazy_and_relative_imports():
    # The test itself must be able to fail: a relative import inside a function is found and resolved.
    found = dict(imports("harness.app.cli", MODULES["harness.app.cli"]))
    assert "harness.core.errors" in found
    assert any(t.startswith("harness.reports") for t in found), "cli imports reports lazily; the walk must see it"


def test_plugins_never_import_each_others_private_names():
    """Issue 31: a plug-in (a check or a suite) may use another plug-in's public names or its package's
    base, never its private helpers (`_name`): those change without notice, and a plug-in that leans on
    another's internals is not one file any more."""
    bad = []
    for module, path in MODULES.items():
        if layer(module) not in ("checks", "suites"):
            continue
        package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not any(a.name.startswith("_") for a in node.names):
                continue
            source = (f"{package.rsplit('.', node.level - 1)[0] if node.level > 1 else package}.{node.module}"
                      if node.level else node.module or "")
            if layer(source) in ("checks", "suites") and source != module and not source.endswith(".base") \
                    and source not in ("harness.checks", "harness.suites"):
                names = ", ".join(a.name for a in node.names if a.name.startswith("_"))
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {module} imports {names} from {source}")
    assert not bad, "\n".join(bad)


def test_every_check_has_one_run_for_both_engines():
    """Issue 31.5: a check reads the data through the engine interface (harness/auditing/engine.py);
    none carries a Spark-only code path."""
    found = []
    for path in sorted((ROOT / "checks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and "spark" in node.name.lower():
                found.append(f"{path.name}: {node.name}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                found += [f"{path.name}: imports {n}" for n in names if "spark" in n.lower()]
    assert not found, found
