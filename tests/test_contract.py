"""Contract tests over every registered check (scikit-learn style): plain JSON-able data, declared
metrics present, rows that point at real lines, crash isolation, policy entries."""

import sys

import pytest

from harness import checks
import harness
from harness.checks.base import CheckResult
from harness.policy import default_policy
from harness.testing import SAMPLE_EVAL, SAMPLE_TRAIN, check_check

ROWS, EVAL = SAMPLE_TRAIN, SAMPLE_EVAL


@pytest.fixture(scope="module")
def result():
    return harness.audit(ROWS, EVAL)


@pytest.mark.parametrize("name", checks.all_checks())
def test_check_contract(result, name):
    # The exported contract (harness.testing, for plug-in authors), then the built-ins' stricter one:
    # on the sample every built-in check ran as it should, whatever its status.
    check_check(name)
    entry = next(c for c in result["checks"] if c["check"] == name)
    assert entry["status"] in ("pass", "warn", "fail", "skipped"), entry["reasons"]
    assert entry["key_figures"] == list(checks.REGISTRY[name].key_figures) and entry["key_figures"]


@pytest.mark.parametrize("name", checks.all_checks())
def test_every_check_has_a_policy_entry(name):
    assert name in default_policy()["checks"]


def test_every_policy_entry_is_a_check():
    assert set(default_policy()["checks"]) == set(checks.REGISTRY)


def test_a_crashing_check_becomes_error_and_the_rest_still_run(monkeypatch):
    def boom(self, data, params):
        raise RuntimeError("kaput")

    monkeypatch.setattr(checks.REGISTRY["near_duplicates"], "run", boom)
    res = harness.audit(ROWS, EVAL)
    by = {c["check"]: c for c in res["checks"]}
    assert by["near_duplicates"]["status"] == "error"
    assert by["near_duplicates"]["reasons"] == ["RuntimeError: kaput"]
    assert by["near_duplicates"]["error"] == "RuntimeError: kaput" and "kaput" in by["near_duplicates"]["traceback"]
    assert "near_duplicates: crashed (RuntimeError: kaput)" in res["reasons"]
    assert by["exact_duplicates"]["status"] in ("pass", "warn", "fail", "skipped")
    assert len(by) == len(checks.REGISTRY)
    assert res["verdict"] == "fail"  # on_error: fail by default
    res = harness.audit(ROWS, None, {"on_error": "warn", "checks": {"pii": {"enabled": False},
                                                                    "exact_duplicates": {"fail_if": {}}}})
    assert res["verdict"] == "warn"


def test_unknown_check_name_suggests():
    from harness.errors import UsageError

    with pytest.raises(UsageError, match="did you mean 'near_duplicates'"):
        checks.get_check("near_duplicate")


def test_result_shape(result):
    assert result["schema"] == "harness.audit/2"
    assert result["verdict"] in ("pass", "warn", "fail")
    assert [c["check"] for c in result["checks"]] == checks.all_checks()
    assert result["inputs"]["train"]["rows"] == len(ROWS)
    assert isinstance(CheckResult(summary={}).findings, list)


def test_a_harness_error_inside_a_check_is_the_users_not_a_crash(monkeypatch):
    """Bad input met inside a check stops the audit with its one-line message (exit 2), as in compare."""
    from harness.errors import InputError

    def bad_input(self, data, params):
        raise InputError("x.jsonl", "unreadable", 3)

    monkeypatch.setattr(checks.REGISTRY["length"], "run", bad_input)
    with pytest.raises(InputError, match="x.jsonl:3"):
        harness.audit(ROWS, EVAL)


PLUGIN = '''"""A plug-in check from another package, found through its entry point."""
from harness.checks import Check, CheckResult, register


@register
class ShoutingCheck(Check):
    name = "shouting"
    title = "Rows in capitals"
    why = "A model tuned on shouting shouts."
    metrics = ("shouting_rows",)
    key_figures = ("shouting_rows",)

    def run(self, data, params):
        rows = [ex for ex in data.rows("train") if ex.input.isupper()]
        return CheckResult(summary={"shouting_rows": len(rows)},
                           findings=[{"rows": [ex.ref], "message": "all capitals"} for ex in rows])
'''


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    """A package installed beside ours declaring a `finetune_harness.checks` entry point."""
    from importlib.metadata import EntryPoint

    import harness.registry

    (tmp_path / "shouting_plugin.py").write_text(PLUGIN)
    (tmp_path / "broken_plugin.py").write_text("raise ImportError('needs a library that is not installed')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("shouting_plugin", "broken_plugin"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    found = [EntryPoint("shouting", "shouting_plugin", "finetune_harness.checks")]
    monkeypatch.setattr(harness.registry, "entry_points",
                        lambda group: [ep for ep in found if ep.group == group])
    monkeypatch.setattr(checks.REGISTRY, "_items", dict(checks.REGISTRY._items))  # restored afterwards
    monkeypatch.setattr(checks.REGISTRY, "_state", "empty")
    return found


def test_a_plugin_check_from_an_entry_point_runs_and_keeps_the_contract(plugin):
    assert "shouting" in checks.REGISTRY and checks.all_checks()[-1] == "shouting"  # plug-ins run last
    res = harness.audit(ROWS + [{"text": "WHERE IS MY PARCEL", "label": "delivery"}], None,
                        {"checks": {"shouting": {"warn_if": {"shouting_rows": 0}}}})
    entry = next(c for c in res["checks"] if c["check"] == "shouting")
    assert entry["status"] == "warn" and entry["findings"][0]["rows"] == [{"split": "train", "line": 43}]
    check_check("shouting")


def test_a_broken_plugin_is_a_one_line_usage_error(plugin):
    from importlib.metadata import EntryPoint

    from harness.errors import UsageError

    plugin.append(EntryPoint("broken", "broken_plugin", "finetune_harness.checks"))
    with pytest.raises(UsageError, match="check plug-in 'broken' .* failed to load: ImportError"):
        checks.all_checks()


def test_the_exported_contract_can_fail(plugin, tmp_path):
    (tmp_path / "shouting_plugin.py").write_text(PLUGIN.replace('summary={"shouting_rows": len(rows)}', "summary={}"))
    with pytest.raises(AssertionError, match="lacks declared metrics"):
        check_check("shouting")
