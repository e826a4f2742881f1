"""Hostile and malformed input through the real command line (issue 16's red-team list): every case in
tests/hostile/<name>/ is copied to a temporary folder and run as `python -m harness ARGS` there. Its
case.json gives the args, the exit code, a substring of the one-line message, and paths that must not
appear. Every case: no traceback, one line on stderr, and every input file byte for byte unchanged
and still there. Adding a case is adding a folder."""

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CASES = sorted(p for p in (Path(__file__).parent / "hostile").iterdir() if (p / "case.json").is_file())


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and p.name != "case.json"}


@pytest.mark.parametrize("case_dir", CASES, ids=[p.name for p in CASES])
def test_hostile_case(case_dir, tmp_path):
    case = json.loads((case_dir / "case.json").read_text())
    work = tmp_path / case_dir.name
    shutil.copytree(case_dir, work)
    before = _digests(work)
    proc = subprocess.run([sys.executable, "-m", "harness", *case["args"]], cwd=work, capture_output=True,
                          text=True, timeout=600)
    err = proc.stderr.strip()
    assert "Traceback" not in proc.stderr + proc.stdout, err
    assert proc.returncode == case["exit"], f"exit {proc.returncode}: {err or proc.stdout[-500:]}"
    if case["exit"] == 2:
        lines = [x for x in err.splitlines() if x.strip()]
        assert len(lines) == 1 and lines[0].startswith("harness: error: "), err
        assert case["message"] in lines[0], lines[0]
    after = _digests(work)
    assert {k: after.get(k) for k in before} == before, "an input was modified or deleted"
    for name in case.get("absent", []):
        assert not (work / name).exists(), f"{name} exists"
    for text in case.get("output_lacks", []):
        assert text not in proc.stdout + proc.stderr, f"{text!r} printed"
    for file, keys, expected in case.get("json_equals", []):
        value = json.loads((work / file).read_text())
        for key in keys:
            value = value[key]
        assert value == expected, f"{file} {keys}: {value!r} != {expected!r}"
