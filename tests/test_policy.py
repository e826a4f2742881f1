"""Policy merging, validation and status decisions."""

import pytest

from harness.core.errors import UsageError
from harness.auditing.policy import decide, load_policy, verdict


def test_user_policy_merges_over_defaults():
    pol = load_policy({"max_seq_len": 128, "checks": {"pii": {"fail_if": {}}}})
    # The shorthand is read into the one rule format: fail_if: {} drops the fail rules, the warn rule stays.
    assert pol["data"]["max_seq_len"] == 128 and "fail_if" not in pol["checks"]["pii"] and "warn_if" not in pol["checks"]["pii"]
    assert pol["checks"]["pii"]["rules"] == {"rows_with_pii": {"at_most": 0, "severity": "warn"}}
    assert load_policy(None)["checks"]["pii"]["rules"] == {"rows_with_pii": {"at_most": 0, "severity": "warn"},
                                                           "secrets": {"at_most": 0, "severity": "fail"}}


def test_decide_uses_strictly_greater_limits():
    conf = {"warn_if": {"n": 0}, "fail_if": {"rate": 0.1}}
    assert decide(conf, {"n": 0, "rate": 0.0}) == ("pass", [])
    assert decide(conf, {"n": 1, "rate": 0.1}) == ("warn", ["n = 1 > 0"])
    assert decide(conf, {"n": 5, "rate": 0.2})[0] == "fail"
    # A check that does not apply is skipped, with its reason (not a pass).
    assert decide(conf, {"applicable": False, "reason": "no labels", "n": 9}) == ("skipped", ["no labels"])


def test_the_shorthand_and_the_rule_format_decide_alike():
    short = load_policy({"checks": {"schema": {"warn_if": {"bad_rows": 0}, "fail_if": {"bad_rate": 0.05}}}})
    rules = load_policy({"checks": {"schema": {"rules": {"bad_rows": {"at_most": 0, "severity": "warn"},
                                                          "bad_rate": {"at_most": 0.05}}}}})
    for summary in ({"bad_rows": 0, "bad_rate": 0.0}, {"bad_rows": 2, "bad_rate": 0.05}, {"bad_rows": 9, "bad_rate": 0.2}):
        assert decide(short["checks"]["schema"], summary) == decide(rules["checks"]["schema"], summary)
    # `below` is strict, `at_most` is not; a metric may carry a warn bound and a fail bound.
    both = load_policy({"checks": {"exact_duplicates": {"rules": {"duplicate_rate": [
        {"at_most": 0.01, "severity": "warn"}, {"below": 0.1, "severity": "fail"}]}}}})["checks"]["exact_duplicates"]
    assert decide(both, {"duplicate_rate": 0.01}) == ("pass", [])
    assert decide(both, {"duplicate_rate": 0.05}) == ("warn", ["duplicate_rate = 0.05 > 0.01"])
    assert decide(both, {"duplicate_rate": 0.1}) == ("fail", ["duplicate_rate = 0.1 >= 0.1"])
    # A check's `rules` replace all its rules: the defaults' warn rule on duplicate_rows is gone.
    assert set(both["rules"]) == {"duplicate_rate"}
    # The policy as loaded reads back as itself (the pipeline hands a loaded policy to the audit).
    import json

    loaded = load_policy({"checks": {"pii": {"fail_if": {}}, "schema": {"rules": {"bad_rate": {"below": 0.2}}}}})
    assert load_policy(json.loads(json.dumps(loaded))) == loaded


@pytest.mark.parametrize("checks,match", [
    # a rule that passes when a lower-is-better metric rises
    ({"schema": {"rules": {"bad_rate": {"above": 0.05}}}},
     r"checks.schema.rules.bad_rate: `above` passes when bad_rate rises, but lower is better; bound it with below or at_most"),
    ({"class_balance": {"rules": {"rarest_share": {"at_most": 0.5}}}}, "passes when rarest_share falls, but higher is better"),
    ({"class_balance": {"warn_if": {"rarest_share": 0.1}}}, "warn_if fires when rarest_share rises, but higher is better"),
    ({"schema": {"rules": {"bad_rate": {"field": "tuned", "below": 0.05}}}}, "a check's metric has no `field`"),
    ({"schema": {"rules": {"bad_rate": {"below": 0.05, "severity": "error"}}}}, "severity must be 'fail' or 'warn'"),
    ({"schema": {"rules": {"bad_rate": {"severity": "warn"}}}}, "needs `above` or `below`"),
    ({"schema": {"rules": {"bad_rate": {"belw": 0.05}}}}, "unknown key 'belw'; did you mean 'below'"),
    ({"schema": {"rules": {"bad_rat": {"below": 0.05}}}}, "checks.schema.rules: unknown metric 'bad_rat'; did you mean 'bad_rate'"),
    ({"schema": {"rules": {"bad_rate": {"below": 0.05}}, "warn_if": {"bad_rows": 0}}}, "give `rules` or its shorthand"),
    ({"schema": {"rules": [1]}}, "rules must be a mapping of metric to rule"),
])
def test_rule_errors_are_one_line(checks, match):
    with pytest.raises(UsageError, match=match):
        load_policy({"checks": checks})


def test_higher_is_better_metrics_take_lower_bounds():
    pol = load_policy({"checks": {"class_balance": {"rules": {"rarest_share": {"at_least": 0.05, "severity": "warn"}}}}})
    conf = pol["checks"]["class_balance"]
    assert decide(conf, {"rarest_share": 0.05}) == ("pass", [])
    assert decide(conf, {"rarest_share": 0.01}) == ("warn", ["rarest_share = 0.01 < 0.05"])


def test_verdict():
    assert verdict(["pass", "warn"]) == "warn"
    assert verdict(["pass", "error"]) == "fail" and verdict(["pass", "error"], "warn") == "warn"
    assert verdict(["pass"]) == "pass" and verdict(["warn", "fail"]) == "fail"
    assert verdict(["skipped", "pass"]) == "pass" and verdict([]) == "pass" and verdict(["skipped"]) == "pass"


def test_one_status_vocabulary_reads_the_old_words():
    import json

    from harness.core.status import Status, entry_status, worst

    assert [s.value for s in Status] == ["pass", "warn", "fail", "error", "skipped"]
    assert json.dumps({"status": Status.SKIPPED}) == '{"status": "skipped"}' and f"{Status.WARN}" == "warn"
    assert worst(["pass", "info", "skipped"]) == "pass" and worst(["warn", "error", "pass"]) == "error"
    # harness.audit/1 and harness.compare/1 entries, in today's words
    assert entry_status({"status": "pass", "summary": {"applicable": False}}) == "skipped"
    assert entry_status({"status": "not_applicable"}) == "skipped"
    assert entry_status({"status": "ok", "verdict": "warn"}) == "warn" and entry_status({"status": "ok"}) == "pass"


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

    from harness.core.config_schema import check_tree
    from harness.auditing.policy import default_policy, policy_rules

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
    from harness.comparing.comparison import trained_seq_len
    from harness.inputs.data_spec import DataSpec, for_training

    assert load_policy(None)["data"]["max_seq_len"] == DataSpec.max_seq_len == DataSpec().max_seq_len
    assert for_training(None, {}).max_seq_len == DataSpec.max_seq_len   # a train config that names none
    assert trained_seq_len({}) == DataSpec.max_seq_len and trained_seq_len({"max_seq_len": 1024}) == 1024
