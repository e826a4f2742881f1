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
    ({"checks": {"pii": {"fail_if": {"secrets": "zero"}}}}, "secrets: expected a finite number, got 'zero'"),
    ({"similarity": {"treshold": 0.5}}, "did you mean 'threshold'"),
    ({"on_error": "ignore"}, "on_error: expected one of warn, fail, got 'ignore'"),
    # Issue 16.4: values that silently switched a check off or broke it.
    ({"checks": {"pii": {"params": {"kinds": ["secrets", "emails"]}}}}, r"kinds\[0\]: .* got 'secrets'; did you mean 'secret'"),
    ({"checks": {"pii": {"params": {"kinds": "secret"}}}}, "kinds: expected a list, got 'secret'"),
    ({"labels": "billing"}, "labels: expected a list"),
    ({"checks": {"shortcuts": {"params": {"min_count": -3}}}}, "min_count: must be >= 1, got -3"),
    ({"checks": {"label_errors": {"params": {"folds": 0}}}}, "folds: must be >= 2"),
    ({"similarity": {"threshold": 2}}, "threshold: must be between 0 and 1"),
    ({"checks": {"leakage": {"fail_if": {"leaked_eval_rows": float("nan")}}}}, "expected a finite number, got nan"),
    ({"checks": {"leakage": {"fail_if": {"leaked_eval_rows": float("inf")}}}}, "expected a finite number, got inf"),
    ({"checks": {"pii": {"enabled": "no"}}}, "enabled: expected true or false, got 'no'"),
    ({"embeddings": {"enabled": "yes"}}, "embeddings.enabled: expected one of auto, true, false"),
    ({"shape": "clasification"}, "did you mean 'classification'"),
    ({"checks": {"paraphrases": {"params": {"neighbours": 2.5}}}}, "neighbours: expected an integer"),
    ({"fields": {"text": 3}}, "fields.text: expected a string"),
])
def test_policy_errors_are_specific(policy, match):
    with pytest.raises(UsageError, match=match):
        load_policy(policy)


def test_every_default_policy_value_meets_its_rule_and_every_rule_names_a_key():
    """The schema and the defaults cannot drift apart: the defaults validate, and a rule for a key that
    no longer exists is caught here."""
    import fnmatch

    from harness.config_schema import check_tree
    from harness.policy import default_policy, policy_rules

    pol = default_policy()
    check_tree(pol, pol, policy_rules(), "default")

    def paths(tree, prefix=""):
        for k, v in tree.items():
            yield prefix + k
            if isinstance(v, dict):
                yield from paths(v, prefix + k + ".")

    every = list(paths(pol))
    for rule in policy_rules():
        # A rule under warn_if/fail_if/fields/spark.conf may name keys the defaults leave empty.
        if rule.endswith(".*") and not fnmatch.filter(every, rule):
            continue
        assert fnmatch.filter(every, rule), f"policy_schema.yaml: {rule} matches no policy key"


def test_max_seq_len_agrees_across_stages():
    """Issue 31.2: the audit checked length against 2048, training cut at 256 and compare fell back to 512.
    One default: a standalone audit measures what `harness train` will keep, and compare reads an
    adapter without the key as trained by default."""
    from harness.comparison import trained_seq_len
    from harness.policy import default_policy
    from harness.train_config import TrainConfig

    assert default_policy()["max_seq_len"] == TrainConfig.max_seq_len == TrainConfig().max_seq_len
    assert trained_seq_len({}) == TrainConfig.max_seq_len and trained_seq_len({"max_seq_len": 1024}) == 1024
