"""The package as users install it, not the checkout: the wheel holds every subpackage and the shipped
data, installs under the one import name `harness` (no top-level checks/suites/reports), and its
`harness` command audits the shipped example (both engines), renders a report and starts the demo.

The wheel goes into a virtual environment of its own outside the repo; its dependencies come from this
test environment's site-packages through a .pth line (that directory's own .pth files, such as the
editable install's finder, are not processed). .ci/run does the same with a fresh environment whose
dependencies come from the registry; both run .ci/wheel_smoke."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    build = tmp_path_factory.mktemp("build")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(ROOT)], check=True, cwd=build, capture_output=True)
    return next(dist.glob("finetune_harness-*.whl"))


def test_the_wheel_holds_every_package_and_no_generic_top_level_names(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = next(n for n in names if n.endswith("top_level.txt"))
    assert zipfile.ZipFile(wheel).read(top).decode().split() == ["harness"]
    for needed in ("harness/auditing/spark/audit.py", "harness/checks/near_duplicates.py", "harness/suites/task.py",
                   "harness/suites/probes/arithmetic.jsonl", "harness/suites/prompts/general.jsonl",
                   "harness/suites/metrics/accuracy/accuracy.py", "harness/reports/templates/report.html.j2",
                   "harness/examples/tickets/train.jsonl", "harness/auditing/default_policy.yaml", "harness/testing.py"):
        assert needed in names, f"{needed} is not in the wheel"


def test_the_installed_wheel_runs_from_outside_the_repo(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps",
                    "-q", str(wheel)], check=True, capture_output=True)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    work = tmp_path / "work"
    work.mkdir()
    run = subprocess.run(["bash", str(ROOT / ".ci" / "wheel_smoke"), str(venv), str(work)], capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "wheel: ok" in run.stdout
