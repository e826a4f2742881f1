"""Secrets and personal data never leave the harness unmasked (issue 30.2, 30.6, 30.7), and data never forms
a GitHub workflow command (30.1): one audit over hostile rows, then every output it wrote or printed is
scanned: terminal, audit.json, report.html, the Markdown step summary, JUnit, annotations and the issues
table. The planted values are searched casefolded and with punctuation removed too: a check that shows
normalised text must not carry a copy past the masking."""

import json
import re

import pytest
import yaml

from conftest import write_jsonl
from harness.app.cli import main
from harness.core.redact import find_pii, mask_text, redaction_tokens
from harness.core.secret_rules import _EXTRA, secret_rules, secret_spans
from harness.core.text import normalize_loose

# (row text, the part that must never be shown)
PLANTED = [
    ("reply to jane.doe1987@gmail.com about the refund", "doe1987"),
    ("my password=hunter2secret please reset it", "hunter2secret"),
    ('the config had {"password": "Tr0ub4dor&3x"} in it', "tr0ub4dor"),
    ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wjalrxutnfemi"),
    ("log in with hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "abcdefghijklmnopqrstuvwxyz"),
    ("mine is github_pat_11ABCDEFG0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdef",
     "11abcdefg0123456789"),
    ("the runner had glpat-Zx9Yw8Vu7Ts6Rq5Po4Nm leaked", "zx9yw8vu7ts6rq5po4nm"),
    ("card 4111.1111.1111.1111 was charged twice", "4111.1111.1111"),
    ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok",
     "dozjgnryp4j3"),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGXkZq0BCADLmQ9vWzRt7Hn2Kd\n=Xq4r\n-----END PGP PRIVATE KEY BLOCK-----",
     "lqoybgxkzq0bcadlmq9vwzrt7hn2kd"),
]
COMMANDS = ["##[stop-commands]tok", "::error file=SECURITY.md,line=1::fake"]


def _rows():
    rows = [{"text": f"the parcel for order {i} has not arrived yet", "label": "delivery"} for i in range(40)]
    rows += [{"text": f"I was charged twice for invoice {i}", "label": "billing"} for i in range(40)]
    for k, (text, _) in enumerate(PLANTED):
        label = ("billing", "account")[k % 2]
        # three near copies each (duplicates, a conflict, a shortcut token) and the same text casefolded
        rows += [{"text": text, "label": label}, {"text": text + " thanks", "label": "account"},
                 {"text": text.upper(), "label": label}]
    rows += [{"text": rows[4]["text"], "label": COMMANDS[0]}, {"text": rows[8]["text"], "label": COMMANDS[1]},
             {"text": "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH", "label": "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"}]
    return rows


@pytest.mark.parametrize("github", [True, False])
def test_no_output_of_an_audit_shows_a_planted_secret_or_forms_a_workflow_command(tmp_path, monkeypatch, capsys, github):
    rows = _rows()
    train = write_jsonl(tmp_path / "train.jsonl", rows)
    evals = write_jsonl(tmp_path / "eval.jsonl", [rows[-5], {"text": PLANTED[1][0], "label": "billing"}])
    summary = tmp_path / "summary.md"
    if github:
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
        monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    else:
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
        monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    out = tmp_path / "out"
    code = main(["audit", str(train), "--eval", str(evals), "--out", str(out), "--junit", str(tmp_path / "audit.xml"),
                 "--issues", str(tmp_path / "issues.csv")])
    assert code == 1
    printed = capsys.readouterr()
    outputs = {"stdout": printed.out, "stderr": printed.err}
    for path in [*out.iterdir(), tmp_path / "audit.xml", tmp_path / "issues.csv", *([summary] if github else [])]:
        outputs[path.name] = path.read_text(encoding="utf-8")
    audit = json.loads(outputs["audit.json"])
    assert {c["check"]: c["summary"].get("secrets") for c in audit["checks"]}["pii"] >= 3 * (len(PLANTED) - 2)
    for name, text in outputs.items():
        folded = text.casefold()
        loose = normalize_loose(text)
        for _, secret in PLANTED:
            assert secret not in folded, f"{secret!r} in {name}"
            assert normalize_loose(secret) not in loose, f"{secret!r} (normalised) in {name}"
        if name in ("stdout", "stderr", "summary.md"):  # what a runner prints to its log or shows as the summary
            assert "##[" not in text, f"a workflow command in {name}"
            commands = [ln for ln in text.splitlines() if re.match(r"\s*::", ln)]
            assert all(re.match(r"::(error|warning|notice) .*title=audit", ln) for ln in commands), commands


def test_every_secret_rule_matches_its_examples_and_spares_its_counterexamples():
    """The rules of secret_rules.yaml carry their own examples, as gitleaks' rules do."""
    for rule in yaml.safe_load(_EXTRA.read_text())["rules"]:
        for text in rule["match"]:
            assert any(name == rule["name"] for name, _, _ in secret_spans(text)), (rule["name"], text)
        for text in rule["no_match"]:
            assert not secret_spans(text), (rule["name"], text, secret_spans(text))


def test_detect_secrets_formats_are_read_from_the_installed_package():
    names = {r.name for r in secret_rules()}
    assert {"slack_token", "stripe_access_key", "twilio_api_key", "sendgrid_api_key", "json_web_token"} <= names
    assert "public_ip_ipv4" not in names  # the ip kind covers addresses
    assert secret_spans("xoxb-123456789012-abcdefghijkl")  # a format only detect-secrets knows here


def test_a_secret_after_a_credential_name_masks_the_value_only():
    text = 'cfg: {"password": "Tr0ub4dor&3x", "user": "sam"}'
    masked = mask_text(text)
    assert "Tr0ub4dor" not in masked and '"password": "' in masked and '"user": "sam"' in masked


def test_prose_about_passwords_is_not_a_secret():
    for text in ("Password: reset it from the settings page", "Secret: ingredients of the sauce",
                 "I need a token of appreciation", "what is my api key limit"):
        assert not find_pii(text), text


def test_cards_written_with_dots_are_found_and_checked():
    assert [f["kind"] for f in find_pii("card 4111.1111.1111.1111 charged")] == ["card"]
    assert not find_pii("version 1234.5678.9012.3456 released")  # fails Luhn


def test_redaction_tokens_mask_normalised_copies_and_spare_common_words():
    tokens = redaction_tokens([("email", "jane.doe1987@gmail.com"), ("secret", "hunter2secret"),
                               ("phone", "+1 415 555 0100")])
    assert {"doe1987", "hunter2secret"} <= tokens and not {"jane", "gmail", "com", "415"} & tokens
    shown = mask_text("reply to jane doe1987 gmail com; password hunter2secret", tokens=tokens)
    assert "doe1987" not in shown and "hunter2secret" not in shown and "reply to jane" in shown


def test_a_check_entry_showing_a_found_value_normalised_is_masked():
    """A shortcut token or a template slot is a word of the row, lowercased: no pattern recognises
    "hunter2secret" alone, the words of what pii found do."""
    from harness.auditing.check_runner import masked_entry
    from harness.core.redact import KINDS

    tokens = redaction_tokens([("secret", "hunter2secret")])
    entry = {"check": "shortcuts", "findings": [{"token": "hunter2secret", "message": "'hunter2secret' predicts account"}]}
    shown = json.dumps(masked_entry(entry, KINDS, tokens))
    assert "hunter2secret" not in shown and "predicts account" in shown
    assert masked_entry(entry, KINDS) == entry  # without the found values there is nothing to know it by
