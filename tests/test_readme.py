"""README.md stays true: every command, flag, config block and API name it shows exists and parses.

What each command does is tested where the command is (test_cli, test_train_cli, test_compare,
test_pipeline, test_report; `harness demo` itself in test_pipeline); this file catches the README
drifting from the code: a renamed flag, a YAML key that no longer validates, a Makefile target or a
script that moved.
"""

import ast
import re
import shlex
from pathlib import Path

import pytest

from harness.app.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S)
INLINE = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", README, flags=re.S))


def _subparsers():
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return parser, action.choices


def _commands() -> list[str]:
    """Command lines: bash blocks line by line (comments dropped) and inline code that starts like one."""
    lines = [ln.split("  #")[0].strip() for lang, body in BLOCKS if lang == "bash" for ln in body.splitlines()]
    lines += [c for c in INLINE if re.match(r"(make |harness |python |\.venv/bin/|torchrun |accelerate launch )", c)]
    out = []
    for line in lines:
        out += [part.strip() for part in line.split("&&") if part.strip() and not part.strip().startswith("#")]
    return out


def test_the_readme_shows_the_two_setup_commands_and_make_has_them():
    makefile = (ROOT / "Makefile").read_text()
    setup = next(body for lang, body in BLOCKS if lang == "bash")
    assert [ln.split("#")[0].split() for ln in setup.strip().splitlines()] == [["make", "demo"], ["make", "test"]]
    for target in ("demo", "test", "bench"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target
    assert "make test" in (ROOT / ".ci" / "run").read_text()  # CI runs exactly the README's test command
    assert "-m pytest" in makefile


def test_every_usage_block_names_real_flags():
    _, subs = _subparsers()
    usages = [body for lang, body in BLOCKS if not lang and body.lstrip().startswith("harness ")]
    assert {u.split()[1] for u in usages} >= {"audit", "train", "compare", "run", "report"}
    for usage in usages:
        command = usage.split()[1]
        known = {opt for a in subs[command]._actions for opt in a.option_strings}
        for flag in set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", usage)):
            assert flag in known, f"README shows `harness {command} {flag}`, which the CLI does not have"


def test_every_command_line_parses():
    _, subs = _subparsers()
    commands = _commands()
    assert any(c.startswith("make demo") for c in commands) and any("harness demo" in c for c in commands)
    for command in commands:
        words = shlex.split(command.replace("...", ""))
        words = [w for w in words if w not in ("N", "M")]
        if words[0] == "make":
            assert re.search(rf"^{words[1]}:", (ROOT / "Makefile").read_text(), flags=re.M), command
        elif words[0].endswith("harness") and len(words) > 1 and words[1] in subs:
            known = {opt for a in subs[words[1]]._actions for opt in a.option_strings}
            for flag in (w.split("=")[0] for w in words[2:] if w.startswith("--")):
                assert flag in known, f"README shows `{command}`; the CLI has no {flag}"
        elif words[0] in ("python", ".venv/bin/python", "python3") and words[1].endswith(".py"):
            script = ROOT / words[1]
            assert script.is_file(), command
            defined = {n.value for n in ast.walk(ast.parse(script.read_text())) if isinstance(n, ast.Constant)
                       and isinstance(n.value, str) and n.value.startswith("--")}
            for flag in (w.split("=")[0] for w in words[2:] if w.startswith("--")):
                assert flag in defined, f"{command}: {script.name} has no {flag}"


@pytest.mark.parametrize("index", [i for i, (lang, _) in enumerate(BLOCKS) if lang == "yaml"])
def test_every_yaml_block_validates(index, tmp_path):
    import yaml

    body = BLOCKS[index][1]
    data = yaml.safe_load(body)
    if "base" in data:  # a pipeline config: every file it names must exist for it to load
        from harness.app.pipeline import PipelineConfig

        for key in ("train", "eval", "audit_policy", "gate_policy"):
            if data.get(key):
                (tmp_path / data[key]).parent.mkdir(parents=True, exist_ok=True)
                (tmp_path / data[key]).write_text("{}\n" if key.endswith("policy") else '{"text": "a", "label": "b"}\n')
        (tmp_path / "pipeline.yaml").write_text(body)
        cfg = PipelineConfig.load(tmp_path / "pipeline.yaml")
        assert cfg.train_config and cfg.out.endswith("harness-out")
    elif "gates" in data:
        from harness.comparing.gate import load_gate

        policy = load_gate(data)
        assert "task.accuracy" not in policy["gates"] and policy["suites"]["drift"]["enabled"] is False
    else:
        from harness.auditing.policy import load_policy

        policy = load_policy(data)
        assert policy["checks"]["shortcuts"]["enabled"] is False


def test_every_python_block_compiles_and_names_real_api():
    import harness

    blocks = [body for lang, body in BLOCKS if lang == "python"]
    assert len(blocks) >= 4
    for body in blocks:
        compile(body.replace("...", "None"), "README.md", "exec")
        for name in re.findall(r"\bharness\.(\w+)\(", body):
            assert callable(getattr(harness, name, None)), f"README calls harness.{name}, which does not exist"
        for module, names in re.findall(r"from (harness\.\w+|checks\.\w+) import ([\w, ]+)", body):
            mod = __import__(module, fromlist=["x"])
            for n in names.split(","):
                assert hasattr(mod, n.strip()), f"{module}.{n.strip()}"


def test_every_linked_file_exists():
    for target in re.findall(r"\]\(([^)#]+)\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target
    for path in re.findall(r"`((?:harness|checks|suites|reports|bench|examples|tests)/[\w./-]+\.\w+)`", README):
        assert (ROOT / path).exists(), path


def test_the_api_functions_survive_importing_every_submodule():
    """A submodule named like an API function (harness/compare.py) replaced harness.compare on import."""
    import importlib
    import pkgutil

    import harness

    for info in pkgutil.iter_modules(harness.__path__):
        if info.name != "__main__":
            importlib.import_module(f"harness.{info.name}")
    for name in harness.__all__[1:]:
        assert callable(getattr(harness, name)), name
