"""Contract tests over every registered check (scikit-learn style): plain JSON-able data, declared
metrics present, rows that point at real lines, crash isolation, policy entries."""

import pytest

from harness import checks
import harness
from harness.checks.base import CheckResult
from harness.auditing.policy import default_policy
from harness.testing import SAMPLE_EVAL, SAMPLE_TRAIN, check_check
from plugin_helpers import install, load_here

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
def test_what_a_check_shows_in_the_report_is_where_it_says(result, name):
    """Issue 31.1: its declarations travel in its entry, and the figures its answers and charts name are
    there when it ran."""
    from harness.core.declarations import QUESTIONS, at

    cls, entry = checks.REGISTRY[name], next(c for c in result["checks"] if c["check"] == name)
    assert entry["charts"] == [c.plain() for c in cls.charts] and entry["answers"] == [a.plain() for a in cls.answers]
    assert all(a.question in QUESTIONS or a.question.endswith("?") for a in cls.answers)
    if entry["status"] != "skipped":
        assert all(at(entry, path) is not None for path in [a.figure for a in cls.answers if a.figure] +
                   [c.data for c in cls.charts]), entry


def test_every_suite_declares_known_questions_and_parts():
    from harness.core.declarations import FEEDS, QUESTIONS
    from harness.suites import REGISTRY

    for name, cls in REGISTRY.items():
        assert set(cls.feeds) <= set(FEEDS), name
        assert all(a.question in QUESTIONS or a.question.endswith("?") for a in cls.answers), name
    fed = [part for cls in REGISTRY.values() for part in cls.feeds]
    assert sorted(fed) == sorted(FEEDS)  # each part is fed by one built-in suite


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
    from harness.core.errors import UsageError

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
    from harness.core.errors import InputError

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
    """A package installed beside ours declaring a `finetune_harness.checks` entry point, loaded here."""
    site = install(tmp_path / "site", "shouting-plugin", {"shouting_plugin": PLUGIN},
                   {"finetune_harness.checks": {"shouting": "shouting_plugin"}})
    load_here(monkeypatch, site, "shouting_plugin", "broken_plugin")
    return site


def test_a_plugin_check_from_an_entry_point_runs_and_keeps_the_contract(plugin):
    assert "shouting" in checks.REGISTRY and checks.all_checks()[-1] == "shouting"  # plug-ins run last
    res = harness.audit(ROWS + [{"text": "WHERE IS MY PARCEL", "label": "delivery"}], None,
                        {"checks": {"shouting": {"warn_if": {"shouting_rows": 0}}}})
    entry = next(c for c in res["checks"] if c["check"] == "shouting")
    assert entry["status"] == "warn" and entry["findings"][0]["rows"] == [{"split": "train", "line": 43}]
    check_check("shouting")


def test_a_broken_plugin_is_a_one_line_usage_error(plugin):
    from harness.core.errors import UsageError

    install(plugin, "broken-plugin", {"broken_plugin": "raise ImportError('needs a library that is not installed')\n"},
            {"finetune_harness.checks": {"broken": "broken_plugin"}})
    with pytest.raises(UsageError, match="check plug-in 'broken' .* failed to load: ImportError"):
        checks.all_checks()


def test_the_exported_contract_can_fail(plugin):
    (plugin / "shouting_plugin.py").write_text(PLUGIN.replace('summary={"shouting_rows": len(rows)}', "summary={}"))
    with pytest.raises(AssertionError, match="lacks declared metrics"):
        check_check("shouting")
