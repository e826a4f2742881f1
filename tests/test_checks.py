"""Each check on small hand-made cases."""

import json
import pytest

import harness
from conftest import check


def run(train, eval=None, **policy):
    return harness.audit(train, eval, policy or None)


def cls(*pairs):
    return [{"text": t, "label": l} for t, l in pairs]


BASE = [
    ("My parcel never arrived and tracking is stuck", "delivery"),
    ("I was billed twice for the same order this month", "billing"),
    ("The app crashes every time I open the settings page", "technical"),
    ("How do I reset my password when the email never comes", "account"),
    ("Please cancel my subscription before the next renewal", "cancel"),
]


def test_exact_duplicates_after_normalisation_but_not_dropping_words():
    rows = cls(*BASE, ("  MY parcel never arrived and   tracking is stuck ", "delivery"),
               ("I am happy with the service", "feedback"), ("I am not happy with the service", "feedback"))
    res = check(run(rows), "exact_duplicates")
    assert res["summary"]["duplicate_rows"] == 1
    [f] = res["findings"]
    assert [r["line"] for r in f["rows"]] == [1, 6] and f["kind"] == "pair"


def test_exact_duplicate_input_with_different_output_is_kind_input():
    rows = cls(*BASE, ("My parcel never arrived and tracking is stuck", "billing"))
    [f] = check(run(rows), "exact_duplicates")["findings"]
    assert f["kind"] == "input"


@pytest.mark.parametrize("copy", [
    "my parcel nevr arrived and tracking is stuck",                      # a typo
    "Hi team, my parcel never arrived and tracking is stuck.",           # a greeting
    "My parcel never arrived and tracking is stuck. Thanks, Ana",        # a signature
    "Hello, my parcel never arived and tracking is stuck",               # a greeting and a typo
])
def test_near_duplicates_survive_a_typo_a_greeting_or_a_signature(copy):
    res = check(run(cls(*BASE, (copy, "delivery"))), "near_duplicates")
    [f] = res["findings"]
    assert {r["line"] for r in f["rows"]} == {1, 6}
    # the candidate keys' similarity: 1.0 when the greeting is a clause of its own, cut from the key
    assert 0.6 <= f["similarity"] <= 1.0
    assert res["info"]["band_candidates"] >= 1


def test_near_duplicates_find_three_edits_on_a_short_row():
    # A greeting, a typo and a signature together drop the character 5-gram Jaccard of the whole rows to
    # ~0.56, under the threshold 0.6; the candidate key without the greeting and sign-off clauses finds it.
    rows = cls(*BASE, ("Hi team, my parcel nevr arrived and tracking is stuck. Thanks, Ana", "delivery"))
    [f] = check(run(rows), "near_duplicates")["findings"]
    assert {r["line"] for r in f["rows"]} == {1, 6}


def test_a_clause_cut_from_one_row_leaves_no_room_for_another_at_that_edge():
    # "Can you send it again?" and "Is it lost?" are neutral here one word at a time, but a row may lose
    # an opening or closing at one edge only: two different follow-up questions stay two requests.
    from harness.auditing.pairs import Vocabulary, canonical_words, clause_starts, same_request

    a = "The box I ordered last week arrived crushed and soaking wet. Can you send it again?"
    b = "The box I ordered last week arrived crushed and soaking wet. Is it lost?"
    v = Vocabulary({}, 3)   # every word rare, so neutral
    starts = (clause_starts(a.lower()), clause_starts(b.lower()))
    assert not same_request(canonical_words(a.lower().replace(".", "").replace("?", "")),
                            canonical_words(b.lower().replace(".", "").replace("?", "")), v, True, v.neutral, starts)


def test_label_conflicts_on_near_same_input():
    rows = cls(*BASE, ("my parcel never arrived, and tracking is stuck!", "billing"))
    [f] = check(run(rows), "label_conflicts")["findings"]
    assert f["labels"] == {"delivery": 1, "billing": 1} and f["majority"] is None


def test_a_near_conflict_is_the_same_whatever_the_row_order():
    """Rows of one text and one label are interchangeable: a near conflict lists all of them, and names
    its two labels by content, so shuffling the rows changes no finding (tests/test_properties.py)."""
    texts = ["my parcel is late", "hi team my parcel is late thanks"]
    rows = cls((texts[0], "a"), (texts[0], "b"), (texts[1], "a"), (texts[0], "b"), *BASE)
    near = [f for f in check(run(rows), "label_conflicts")["findings"] if f["kind"] == "near"]
    again = [f for f in check(run(rows[::-1]), "label_conflicts")["findings"] if f["kind"] == "near"]
    assert [sorted(r["line"] for r in f["rows"]) for f in near] == [[2, 3, 4]]
    assert [sorted(len(rows) + 1 - r["line"] for r in f["rows"]) for f in again] == [[2, 3, 4]]
    assert near[0]["labels"] == {"b": 2, "a": 1}


def test_generative_conflicts_compare_completions():
    rows = [{"prompt": "What is the capital of France?", "completion": "Paris is the capital of France."},
            {"prompt": "what is the capital of france", "completion": "Paris is the capital of France!"},
            {"prompt": "What is the capital of France ?", "completion": "I cannot answer questions about geography."},
            {"prompt": "Name a prime number", "completion": "Seven"}]
    res = check(run(rows), "label_conflicts")
    [f] = res["findings"]
    assert {r["line"] for r in f["rows"]} == {1, 2, 3}


def test_label_errors_finds_a_flip():
    texts = {
        "delivery": ["parcel late", "tracking stuck", "courier lost my package", "delivery never came",
                     "package not delivered", "shipping delayed again"],
        "billing": ["charged twice", "invoice wrong", "refund the extra charge", "billing error on card",
                    "double charge on invoice", "payment taken twice"],
    }
    rows = []
    for lab, ts in texts.items():
        for k in range(4):
            rows += [{"text": f"{t} {w}", "label": lab} for t, w in zip(ts, ["today", "again", "please", "help",
                                                                          "now", "asap"][k:] + ["hi"] * k)]
    rows.append({"text": "courier lost my package today please", "label": "billing"})
    # 49 rows: a classifier trained on so few is less sure than the default thresholds ask (chosen on
    # real sets of thousands of rows), so this test of the mechanism loosens them.
    res = check(run(rows, checks={"label_errors": {"params": {"max_p_given": 0.1, "min_p_suggested": 0.5}}}),
                "label_errors")
    flagged = [f["rows"][0]["line"] for f in res["findings"]]
    assert len(rows) in flagged
    f = next(f for f in res["findings"] if f["rows"][0]["line"] == len(rows))
    assert f["suggested"] == "delivery" and 0 <= f["score"] <= 1


def test_label_errors_keeps_the_classifier_weights_under_its_cap():
    from checks.label_errors import feature_cap

    assert feature_cap(8_000_000, 219) == 36529 and feature_cap(8_000_000, 2) == 4_000_000
    assert feature_cap(100, 50) == 20000 and feature_cap(0, 10) is None
    rows = [{"text": f"word{i} word{i + 1} about {lab}", "label": lab} for lab in ("a", "b") for i in range(60)]
    pol = {"checks": {"label_errors": {"params": {"use_embeddings": False}}}}
    every = check(run(rows, **pol), "label_errors")["info"]["tfidf_features"]
    capped = check(run(rows, checks={"label_errors": {"params": {"use_embeddings": False, "max_weights": 1}}}),
                   "label_errors")["info"]["tfidf_features"]
    assert every > 100 and capped == every   # the floor (20,000 grams) keeps small sets whole
    from checks.label_errors import tfidf_vectors
    assert tfidf_vectors([r["text"] for r in rows], 10).shape[1] == 10


def test_label_errors_not_applicable_to_free_text():
    rows = [{"prompt": f"question {i}", "completion": f"a long free answer number {i} with words"} for i in range(20)]
    res = check(run(rows), "label_errors")
    assert res["status"] == "skipped" and res["reasons"] and res["summary"]["applicable"] is False


def test_leakage_exact_near_and_embedded():
    train = cls(*BASE, ("Following up: I was billed twice for the same order this month and nobody answered my last "
                        "three emails about it", "billing"))
    eval_ = cls(("My parcel never arrived and tracking is stuck", "delivery"),
                ("hello, the app crashes every time I open the settings page", "technical"),
                ("I was billed twice for the same order this month", "billing"),
                ("Where can I download last year's invoices", "billing"))
    res = check(run(train, eval_), "leakage")
    kinds = {f["rows"][0]["line"]: f["kind"] for f in res["findings"]}
    assert kinds[1] == "exact" and kinds[2] == "near" and 4 not in kinds
    assert 3 in kinds  # exact match with row 2 as well as embedded in row 6
    assert res["status"] == "fail"


def test_an_exact_leak_lists_its_near_copies_too():
    """Cleaning removes every training copy of a leaked eval row: when one copy is exact, the near copies
    (another label excepted) are in the same finding, not left for the next audit to find."""
    train = cls(*BASE, ("My parcel never arrived and tracking is stuck", "delivery"),
                ("hi team, my parcel never arived and tracking is stuck", "delivery"),
                ("My parcel never arrived and tracking is stuck!!", "billing"))
    eval_ = cls(("My parcel never arrived and tracking is stuck", "delivery"),)
    [f] = check(run(train, eval_), "leakage")["findings"]
    assert f["kind"] == "exact"
    lines = [r["line"] for r in f["rows"] if r["split"] == "train"]
    assert lines[:2] == [1, 6] and 7 in lines and 8 not in lines


def test_leakage_embedded_only_by_ngram():
    train = cls(*BASE, ("Forwarding my complaint from last week again because nobody replied to it at all. The courier "
                        "left a note saying the building door code was wrong so they took it back to the depot. "
                        "I have lived here for six years and the code has never changed, so please advise.", "delivery"))
    eval_ = cls(("The courier left a note saying the building door code was wrong so they took it back to the depot",
                 "delivery"),)
    [f] = check(run(train, eval_), "leakage")["findings"]
    assert f["kind"] == "ngram" and f["similarity"] == 1.0
    assert {"split": "train", "line": 6} in f["rows"]


def test_shortcut_token_found_with_significance():
    rows = [{"text": f"ticket number {i} about shipping status [via-app]", "label": "delivery"} for i in range(15)]
    rows += [{"text": f"ticket number {i} about an invoice problem", "label": "billing"} for i in range(15)]
    rows += [{"text": f"ticket number {i} about shipping costs", "label": "billing"} for i in range(15)]
    res = check(run(rows), "shortcuts")
    tokens = {t for f in res["findings"] for t in [f["token"], *f.get("aliases", [])]}
    assert "via" in tokens or "app" in tokens
    assert "ticket" not in tokens and "shipping" not in tokens  # spread over labels


def test_label_name_in_input_is_counted():
    rows = cls(*BASE, ("billing question: why two charges", "billing"))
    res = check(run(rows), "shortcuts")
    assert res["summary"]["label_name_rows"] == 2  # "billing question..." and "Please cancel ..." (label cancel)
    # A label's own name in its rows defines the class: an informational table, never a finding.
    assert {n["label"] for n in res["info"]["label_names"]} == {"billing", "cancel"}
    assert not [f for f in res["findings"] if f.get("kind") == "label_name"]


def test_a_private_key_is_masked_whole_in_every_output(tmp_path):
    """Issue 30.2: only the BEGIN line was matched, and a sixth of each end of a match was kept: the HTML
    report showed ~180 characters of the key body, five times. The block is one match to its END line
    (PGP blocks too), and a secret keeps at most four characters."""
    import base64
    import random

    from harness.app.cli import main

    body = base64.b64encode(random.Random(0).randbytes(900)).decode()
    lines = "\n".join(body[k:k + 64] for k in range(0, len(body), 64))
    rows = cls(*BASE, (f"my key is -----BEGIN RSA PRIVATE KEY-----\n{lines}\n-----END RSA PRIVATE KEY----- thanks",
                       "account"),
               (f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n{lines[:300]}\n-----END PGP PRIVATE KEY BLOCK-----", "account"))
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(r) + "\n" for r in rows))
    main(["audit", str(train), "--out", str(tmp_path / "a"), "--quiet"])
    res = check(json.loads((tmp_path / "a" / "audit.json").read_text()), "pii")
    assert sorted(f["detail"] for f in res["findings"]) == ["private_key", "private_key"]
    for name in ("audit.json", "report.html"):
        text = (tmp_path / "a" / name).read_text()
        assert not any(body[k:k + 12] in text for k in range(0, len(body) - 12, 6)), name


def test_pii_kinds_spans_and_masking():
    text = ("mail ann.lee@example.com or call +44 7700 900123, card 4111 1111 1111 1111, "
            "iban GB82 WEST 1234 5698 7654 32, ip 10.1.2.3, key AKIAABCDEFGHIJKLMNOP. Order 4111 1111 1111 1112")
    res = check(run(cls(*BASE, (text, "billing"))), "pii")
    kinds = sorted(f["kind"] for f in res["findings"])
    assert kinds == ["card", "email", "iban", "ip", "phone", "secret"]  # the non-Luhn number is not a card
    email = next(f for f in res["findings"] if f["kind"] == "email")
    s, e = email["span"]
    assert text[s:e] == "ann.lee@example.com" and "ann.lee@example.com" not in email["preview"]
    assert res["status"] == "fail"  # a secret


def test_length_truncation_outliers_and_empty_output():
    rows = [{"prompt": f"short prompt {i}", "completion": f"short answer {i}"} for i in range(20)]
    rows.append({"prompt": "long " * 400, "completion": "x"})
    rows.append({"prompt": "p", "completion": "\u200b"})
    audit = run(rows, max_seq_len=256)
    res = check(audit, "length")
    kinds = {f["rows"][0]["line"]: f["kind"] for f in res["findings"]}
    assert kinds[21] == "truncated" and res["summary"]["truncated_rows"] == 1
    # A completion of zero-width spaces is empty: a schema error (issue 16.11), so it never reaches length.
    bad = {f["rows"][0]["line"]: f["message"] for f in check(audit, "schema")["findings"]}
    assert "empty" in bad[22] and 22 not in kinds


def test_class_balance_rare_class_and_shift():
    train = cls(*[(f"delivery text {i}", "delivery") for i in range(40)], *[(f"bill {i}", "billing") for i in range(3)])
    eval_ = cls(*[(f"bill e{i}", "billing") for i in range(10)], ("what is this", "other"))
    res = check(run(train, eval_), "class_balance")
    s = res["summary"]
    assert s["rare_classes"] == 1 and s["rarest_label"] == "billing"
    assert s["imbalance_ratio"] > 10 and s["label_shift_tvd"] > 0.5 and s["eval_labels_unseen_in_train"] == 1
    assert res["status"] == "fail"


def test_schema_check_reports_bad_rows_with_lines():
    res = check(run(cls(*BASE, ("", "x"))), "schema")
    assert res["findings"] == [{"rows": [{"split": "train", "line": 6}], "message": "text is empty or whitespace-only"}]


def test_probe_items_found_in_train(tmp_path, monkeypatch):
    from harness import suites
    probes = tmp_path / "probes"
    probes.mkdir()
    (probes / "capitals.jsonl").write_text(
        '{"id": "q1", "context": "The capital city of Australia is not Sydney but Canberra, chosen as a compromise"}\n'
        '{"id": "q2", "context": "Water boils at one hundred degrees Celsius at sea level pressure"}\n')
    monkeypatch.setattr(suites, "PROBE_DIR", probes)
    train = cls(*BASE, ("Quiz: the capital city of Australia is not Sydney but Canberra, chosen as a compromise "
                        "between the two rivals", "feedback"))
    res = check(run(train), "leakage")
    assert res["summary"]["probe_items_checked"] == 2 and res["summary"]["leaked_probe_items"] == 1
    [f] = res["findings"]
    assert f["probe"] == "capitals" and f["probe_id"] == "q1" and f["rows"] == [{"split": "train", "line": 6}]
    assert res["status"] == "fail"


def test_length_with_a_local_tokenizer(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator([t for t, _ in BASE] * 3, trainers.WordPieceTrainer(vocab_size=200, special_tokens=["[UNK]"]))
    PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]").save_pretrained(tmp_path / "tok")
    res = check(run(cls(*BASE), tokenizer=str(tmp_path / "tok"), max_seq_len=9), "length")
    assert res["info"]["counted_with"].startswith("tokenizer")
    counted = {f["rows"][0]["line"]: f["tokens"] for f in res["findings"] if f["kind"] == "truncated"}
    expected = {i + 1: len(tok.encode(t).ids) + len(tok.encode(l).ids) for i, (t, l) in enumerate(BASE)}
    assert counted == {k: v for k, v in expected.items() if v > 9} and counted


def test_leakage_needs_the_same_answer():
    """Issue 29: a long shared span with another label (the deciding word swapped), or a shared template
    with another answer, is a different item, not a leak."""
    train = cls(*BASE, ("How can I top up my account balance with a card from another bank", "top_up_by_card"))
    eval_ = cls(("How can I top up my account balance with a card from another bank today", "top_up_by_card"),
                ("how can i top up my account balance with a cheque from another bank", "top_up_by_cheque"))
    res = check(run(train, eval_), "leakage")
    assert [f["rows"][0]["line"] for f in res["findings"]] == [1]
    assert res["summary"]["same_input_other_answer"] == 0   # the cheque row differs in a deciding word
    gen_train = [{"prompt": "Book a reservation for ten people at a restaurant in Ohio tonight please at 2 am",
                  "completion": '{"intent": "BookRestaurant", "slots": {"party_size": "ten", "state": "Ohio", '
                                '"time": "2 am"}}'}]
    gen_eval = [{"prompt": "Book a reservation for ten people at a restaurant in Ohio tonight please",
                 "completion": '{"intent": "BookRestaurant", "slots": {"party_size": "ten", "state": "Ohio"}}'}]
    res = check(run(gen_train * 3, gen_eval), "leakage")
    assert res["findings"] == [] and res["summary"]["same_input_other_answer"] == 1


def test_checklist_is_not_clean_while_reworded_or_unread_eval_rows_stand():
    from reports.view import _leakage_answer

    from harness.checks import REGISTRY
    from harness.core.declarations import declarations

    def entry(name, **summary):  # as the audit writes it: with what the check declares it answers
        return {"summary": summary, **declarations(REGISTRY[name])}

    audit = {"inputs": {"eval": {"bad_rows": 0}}}
    assert _leakage_answer(audit, {"leakage": entry("leakage", leaked_eval_rows=0)})[0] == "yes"
    ans, why = _leakage_answer(audit, {"leakage": entry("leakage", leaked_eval_rows=0),
                                       "paraphrases": entry("paraphrases", paraphrased_eval_rows=19)})
    assert ans == "no" and "19 eval rows reworded" in why
    ans, why = _leakage_answer({"inputs": {"eval": {"bad_rows": 15}}}, {"leakage": entry("leakage", leaked_eval_rows=0)})
    assert ans == "unknown" and "15 eval rows" in why
    assert _leakage_answer(audit, {})[0] == "unknown"  # nothing that looks for leaks ran


def test_extraction_answers_that_copy_their_own_requests_do_not_conflict():
    """Issue 29: slot values copied from each request's own wording agree; a different value does not."""
    def row(prompt, value):
        return {"prompt": prompt, "completion": json.dumps({"intent": "SearchScreeningEvent",
                                                            "slots": {"object_type": value}})}
    rows = [row("Where can I see the movie schedule near me tonight", "movie schedule"),
            row("where can i see the movie schedules near me tonight", "movie schedules"),
            row("where can i see the movie schedules near me tonight", "movie times")]
    res = check(run(rows), "label_conflicts")
    lines = [sorted(r["line"] for r in f["rows"]) for f in res["findings"]]
    assert [1, 2] not in lines and [2, 3] in lines and [1, 3] in lines


def test_extraction_answers_of_requests_that_differ_in_punctuation_alone_do_not_conflict():
    """Issue 29 (US addresses, usaddress's hand-labelled set): "353 N Clark St" / "353 N. Clark St." are one
    text to the audit; their answers copy "N" / "N." and "St" / "St.", and "# 1 PINTO DR." annotates the "#"
    that "1 PINTO DR." lacks. They agree. The same text split into other slots does not."""
    def row(prompt, slots):
        return {"prompt": prompt, "completion": json.dumps({"slots": slots})}
    rows = [row("353 N Clark St, Chicago", {"AddressNumber": "353", "StreetNamePreDirectional": "N", "StreetName": "Clark",
                                            "StreetNamePostType": "St", "PlaceName": "Chicago"}),
            row("353 N. Clark St., Chicago", {"AddressNumber": "353", "StreetNamePreDirectional": "N.", "StreetName": "Clark",
                                              "StreetNamePostType": "St.", "PlaceName": "Chicago"}),
            row("1 PINTO DR.", {"AddressNumber": "1", "StreetName": "PINTO", "StreetNamePostType": "DR."}),
            row("# 1 PINTO DR.", {"AddressNumberPrefix": "#", "AddressNumber": "1", "StreetName": "PINTO",
                                  "StreetNamePostType": "DR."}),
            row("9837 SW 184TH ST Bld A", {"AddressNumber": "9837", "StreetName": "184TH", "SubaddressType": "Bld",
                                           "SubaddressIdentifier": "A"}),
            row("9837 SW 184TH ST Bld-A", {"AddressNumber": "9837", "StreetName": "184TH", "SubaddressType": "Bld-A"})]
    res = check(run(rows), "label_conflicts")
    assert [sorted(r["line"] for r in f["rows"]) for f in res["findings"]] == [[5, 6]]
