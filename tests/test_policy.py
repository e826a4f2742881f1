"""Policy merging, validation and status decisions."""

import pytest

from harness.errors import UsageError
from harness.policy import decide, load_policy, verdict


def test_user_policy_merges_over_defaults():
    pol = load_policy({"max_seq_len": 128, "checks": {"pii": {"fail_if": {}}}})
    assert pol["max_seq_len"] == 128 and pol["checks"]["pii"]["fail_if"] == {}
    assert pol["checks"]["pii"]["warn_if"] == {"rows_with_pii": 0}  # untouched keys keep their defaults


def test_decide_uses_strictly_greater_limits():
    conf = {"warn_if": {"n": 0}, "fail_if": {"rate": 0.1}}
    assert decide(conf, {"n": 0, "rate": 0.0}) == ("pass", [])
    assert decide(conf, {"n": 1, "rate": 0.1}) == ("warn", ["n = 1 > 0"])
    assert decide(conf, {"n": 5, "rate": 0.2})[0] == "fail"
    assert decide(conf, {"applicable": False, "n": 9}) == ("pass", [])


def test_verdict():
    assert verdict(["pass", "warn"]) == "warn"
    assert verdict(["pass", "error"]) == "fail" and verdict(["pass", "error"], "warn") == "warn"
    assert verdict(["pass"]) == "pass" and verdict(["warn", "fail"]) == "fail"


@pytest.mark.parametrize("policy,match", [
    ({"checks": {"pii": {"fail_iff": {}}}}, "did you mean 'fail_if'"),
    ({"checks": {"pii": {"fail_if": {"secrets": "zero"}}}}, "must be a number"),
    ({"similarity": {"treshold": 0.5}}, "did you mean 'threshold'"),
    ({"on_error": "ignore"}, "on_error must be"),
])
def test_policy_errors_are_specific(policy, match):
    with pytest.raises(UsageError, match=match):
        load_policy(policy)
