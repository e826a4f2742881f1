"""The audit scored against planted defects with ground truth (examples/make_tickets.py), against the
issue's quality targets; and the same rows in chat format must give the same findings."""

import json

import pytest
import score_planted

import harness
from conftest import check

TARGETS = {  # (metric, minimum)
    "exact_duplicates.recall": 0.99,
    "near_duplicates.recall": 0.95, "near_duplicates.precision": 0.90,
    "label_conflicts.recall": 0.95,
    # The default policy flags a row only when the classifier is sure (p_given <= 0.02, p_suggested >= 0.7)
    # and the row's neighbours agree (none of its 10 nearest rows carries the given label, half carry the
    # suggested one, the closest of them at cosine >= 0.7): judged on real intent data that kept 16 of 18
    # flags right (issue 29 item 7), and it finds 14 of these 25 planted flips (0.56; 0.68 before the
    # neighbour vote): long tickets sit further apart than a reworded intent, and a product name pulls
    # rows of other labels near - the trade is made for real data.
    "label_errors.recall": 0.55, "label_errors.precision": 0.95,
    "leakage.recall": 0.95, "leakage.precision": 0.90,
    "pii.recall": 0.95,
    "shortcuts.found": 1.0,
    "length.recall": 1.0,
    "schema.recall": 1.0,
}


@pytest.fixture(scope="module")
def scores(ticket_audit):
    result, truth = ticket_audit
    return score_planted.score(result, truth)


@pytest.mark.parametrize("metric", list(TARGETS))
def test_quality_target(scores, metric):
    assert scores[metric] >= TARGETS[metric], f"{metric} = {scores[metric]:.3f} < {TARGETS[metric]}"


def test_pii_has_no_false_alarms_on_logs_dates_and_order_numbers(scores):
    assert scores["pii.precision"] >= 0.95


def test_verdict_fails_on_planted_leaks_and_secrets(ticket_audit):
    result, _ = ticket_audit
    assert result["verdict"] == "fail"
    assert check(result, "leakage")["status"] == "fail" and check(result, "pii")["status"] == "fail"


def _groups(result, name):
    return {frozenset((r["split"], r["line"]) for r in f["rows"]) for f in check(result, name)["findings"]}


def test_chat_format_finds_the_same_duplicates_conflicts_and_leaks(tickets, tickets_policy, ticket_audit):
    out, _ = tickets
    plain, _ = ticket_audit
    chat = harness.audit(str(out / "train_chat.jsonl"), str(out / "eval_chat.jsonl"), tickets_policy)
    assert chat["inputs"]["train"]["shape"] == "chat" and chat["label_source"] == "completion"
    for name in ("exact_duplicates", "near_duplicates", "label_conflicts", "leakage", "label_errors", "pii"):
        assert _groups(chat, name) == _groups(plain, name), name


def test_generator_is_deterministic_and_matches_the_shipped_example(tickets):
    from conftest import ROOT

    out, truth = tickets
    shipped = ROOT / "examples" / "tickets"
    assert (out / "train.jsonl").read_bytes() == (shipped / "train.jsonl").read_bytes()
    assert json.loads((shipped / "truth.json").read_text()) == truth


def test_shuffled_file_gives_the_same_label_errors(tickets, tickets_policy, ticket_audit):
    """Folds follow row content, not row order, so label-error flags survive a shuffle."""
    import random

    out, _ = tickets
    plain, _ = ticket_audit
    lines = (out / "train.jsonl").read_text().splitlines(keepends=True)
    order = list(range(len(lines)))
    random.Random(7).shuffle(order)
    shuffled = out / "train_shuffled.jsonl"
    shuffled.write_text("".join(lines[i] for i in order))
    new_to_old = {new + 1: old + 1 for new, old in enumerate(order)}
    again = harness.audit(str(shuffled), str(out / "eval.jsonl"), tickets_policy)
    flagged = {new_to_old[f["rows"][0]["line"]] for f in check(again, "label_errors")["findings"]}
    assert flagged == {f["rows"][0]["line"] for f in check(plain, "label_errors")["findings"]}
