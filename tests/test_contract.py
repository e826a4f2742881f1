"""Contract tests over every registered check (scikit-learn style): plain JSON-able data, declared
metrics present, rows that point at real lines, crash isolation, policy entries."""

import json
import sys

import pytest

import checks
import harness
from checks.base import CheckResult
from harness.policy import default_policy

ROWS = [{"text": f"ticket {i} about {'billing charge' if i % 2 else 'parcel delivery'} number {i % 7}",
         "label": "billing" if i % 2 else "delivery"} for i in range(40)]
ROWS += [dict(ROWS[0]), {"text": "contact me at a@b.example.com", "label": "billing"}]
EVAL = [dict(ROWS[3]), {"text": "something else entirely", "label": "delivery"}]


@pytest.fixture(scope="module")
def result():
    return harness.audit(ROWS, EVAL)


@pytest.mark.parametrize("name", checks.all_checks())
def test_check_contract(result, name):
    cls = checks.REGISTRY[name]
    assert cls.title and cls.why
    assert sys.modules[cls.__module__].__doc__, f"{name}: the module docstring says why the check exists"
    entry = next(c for c in result["checks"] if c["check"] == name)
    assert entry["status"] in ("pass", "warn", "fail"), entry["reasons"]
    json.dumps(entry, allow_nan=False)
    if entry["summary"].get("applicable") is not False:
        missing = [m for m in cls.metrics if m not in entry["summary"]]
        assert not missing, f"{name} summary lacks declared metrics {missing}"
    lines = {"train": len(ROWS), "eval": len(EVAL)}
    for f in entry["findings"]:
        assert isinstance(f["message"], str) and f["message"]
        for ref in f["rows"]:
            assert set(ref) == {"split", "line"} and 1 <= ref["line"] <= lines[ref["split"]]
        for key in ("similarity", "score"):
            if key in f:
                assert 0.0 <= f[key] <= 1.0


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
    assert by["exact_duplicates"]["status"] in ("pass", "warn", "fail")
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
    assert result["schema"] == "harness.audit/1"
    assert result["verdict"] in ("pass", "warn", "fail")
    assert [c["check"] for c in result["checks"]] == checks.all_checks()
    assert result["inputs"]["train"]["rows"] == len(ROWS)
    assert isinstance(CheckResult(summary={}).findings, list)
