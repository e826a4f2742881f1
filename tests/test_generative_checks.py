"""The generative checks (output_format, truncation, unsupported_values, boilerplate) on hand-made
cases, and scored on the planted extraction and reply examples (examples/make_orders.py,
make_replies.py) against the issue's targets (recall >= 0.95, precision >= 0.9 per check)."""

import json

import pytest
import score_planted

import harness
from conftest import ROOT, check
from harness.inputs.output_kinds import dates_in, family, final_line, value_kind


def run(rows, eval=None, **policy):
    return harness.audit(rows, eval, policy or None)


def order(i, **over):
    """A natural extraction row: every value of the answer is in the message."""
    products = ["Orbit earbuds", "Quill tablet", "Wren kettle", "Mira yoga mat", "Echo speaker", "Sable chair"]
    issue = ["damaged", "late_delivery", "missing_item"][i % 3]
    oid = f"A{10 + i}-{4000 + 37 * i}"
    amount = 10 + 3 * i + 0.99
    said = {"damaged": "arrived broken", "late_delivery": "still not here", "missing_item": "was not in the box"}[issue]
    prompt = (f"Hi, my {products[i % 6]} from order {oid} {said}. I paid €{amount:.2f} "
              f"on March {i % 27 + 1}. Case {i}.")
    answer = {"order_id": oid, "product": products[i % 6], "issue_type": issue, "amount": amount,
              "currency": "EUR", "date": f"2026-03-{i % 27 + 1:02d}"}
    answer.update(over)
    return {"prompt": prompt, "completion": json.dumps(answer)}


def orders(n=40):
    return [order(i) for i in range(n)]


def lines(res):
    return sorted({r["line"] for f in res["findings"] for r in f["rows"]})


# ---- output kinds ------------------------------------------------------------------------------------

def test_output_kinds():
    assert family('{"a": 1}') == "json object" and family('```json\n{"a": 1}\n```') == "json object"
    assert family('{"a": 1') == "broken json" and family('{"a": 1}\n-- signed') == "json object with text around it"
    assert family("- one\n- two\n- three") == "list" and family("It is 5.") == "prose" and family(" ") == "empty"
    assert final_line("Half of 48 is 24.\n#### 1,024") == "#### <num>"
    assert [value_kind(v) for v in (3, "3.50", "2026-03-04", "03/04/2026", "March 4", None, "Quill")] == [
        "number", "number as text", "date YYYY-MM-DD", "date with slashes", "date in words", "null", "text"]
    # Written dates, typos in month names, both readings of 03/04.
    assert {(None, 4, 22), (None, 10, 18), (2026, 3, 4), (2026, 4, 3)} <= dates_in(
        "shipped Apirl 22, bought the 18th of Ocotber, paid 03/04/2026")
    assert dates_in("mark 5 and the 3 of them") == set()


# ---- output_format ---------------------------------------------------------------------------------

def test_output_format_flags_prose_renamed_keys_and_type_drift():
    rows = orders(40)
    rows[3]["completion"] = "The customer says the Quill tablet arrived damaged."
    renamed = json.loads(rows[7]["completion"])
    renamed["orderId"] = renamed.pop("order_id")
    rows[7]["completion"] = json.dumps(renamed)
    rows[11] = order(11, date="03/12/2026")
    rows[15] = order(15, amount="55.99")
    res = check(run(rows), "output_format")
    assert res["summary"]["dominant_family"] == "json object"
    kinds = {f["rows"][0]["line"]: f for f in res["findings"]}
    assert sorted(kinds) == [4, 8, 12, 16]
    assert kinds[4]["kind"] == "minority_format" and "prose" in kinds[4]["message"]
    assert kinds[8]["kind"] == "key_drift" and "orderId for order_id" in kinds[8]["message"]
    assert kinds[12]["kind"] == "type_drift" and kinds[12]["key"] == "date"
    assert kinds[16]["kind"] == "type_drift" and "number as text" in kinds[16]["message"]


def test_output_format_learns_a_final_line_and_flags_answers_without_it():
    rows = [{"prompt": f"What is {i} plus {i}?", "completion": f"Add them: {i}+{i}={2 * i}.\n#### {2 * i}"}
            for i in range(30)]
    rows[5]["completion"] = "Add them: 5+5=10. The answer is 10."
    res = check(run(rows), "output_format")
    [f] = res["findings"]
    assert f["kind"] == "final_line" and f["rows"][0]["line"] == 6 and res["info"]["final_line"] == "#### <num>"


def test_output_format_is_silent_on_consistent_data_and_not_applicable_to_labels():
    assert check(run(orders(30)), "output_format")["findings"] == []
    labels = [{"prompt": f"ticket {i} about a refund", "completion": ["refund", "delivery"][i % 2]} for i in range(40)]
    assert check(run(labels), "output_format")["summary"]["applicable"] is False


# ---- truncation ------------------------------------------------------------------------------------

def test_truncation_finds_cut_json_and_cut_sentences_but_not_a_set_without_endings():
    rows = orders(30)
    rows[4]["completion"] = rows[4]["completion"][:40]
    res = check(run(rows), "truncation")
    [f] = res["findings"]
    assert f["rows"][0]["line"] == 5 and f["kind"] == "broken_json" and "unclosed" in f["message"]

    prose = [{"prompt": f"Reply to customer {i}", "completion": f"Thanks for writing, customer {i}. We will refund you today."}
             for i in range(30)]
    prose[8]["completion"] = "Thanks for writing, customer 8. We will refund you and the"
    [f] = check(run(prose), "truncation")["findings"]
    assert f["rows"][0]["line"] == 9 and f["kind"] == "no_ending"
    # A set whose answers often end without punctuation: a missing full stop is no finding.
    loose = [{"prompt": f"p {i}", "completion": f"ok customer {i}" + ("." if i % 2 else "")} for i in range(30)]
    assert check(run(loose), "truncation")["findings"] == []


def test_truncation_names_a_length_limit_shared_by_cut_answers():
    long = "This refund was approved after we checked the order and the payment records carefully today."
    rows = [{"prompt": f"case {i}", "completion": long.replace("today", f"on day {i}")} for i in range(30)]
    for i in (2, 9, 17):
        rows[i]["completion"] = "This refund was approved after we checked the order and"
    res = check(run(rows), "truncation")
    assert lines(res) == [3, 10, 18]
    assert all("length limit" in f["message"] for f in res["findings"])


# ---- unsupported_values ----------------------------------------------------------------------------

def test_unsupported_values_flags_invented_values_and_learns_which_fields_are_labels():
    rows = orders(40)
    rows[2] = order(2, order_id="Z99-0001")     # not in the message
    rows[9] = order(9, amount=999.0)            # not in the message
    rows[20] = order(20, date="2026-07-30")     # not in the message
    res = check(run(rows), "unsupported_values")
    found = {(f["rows"][0]["line"], f["field"]) for f in res["findings"]}
    assert found == {(3, "order_id"), (10, "amount"), (21, "date")}
    info = res["info"]
    assert {"issue_type", "currency"} <= set(info["label_fields"])  # chosen from a closed set, not copied
    assert {"order_id", "amount", "date", "product"} <= set(info["extracted_fields"])


def test_unsupported_values_accepts_reformatted_numbers_dates_and_typos():
    rows = orders(30)
    rows[0]["prompt"] = rows[0]["prompt"].replace("€10.99", "10.99 euros").replace("March 1", "Mrach 1st")
    rows[1]["prompt"] = rows[1]["prompt"].replace("Quill tablet", "quil tablet")
    assert check(run(rows), "unsupported_values")["findings"] == []


def test_unsupported_values_not_applicable_to_prose():
    rows = [{"prompt": f"What is {i} + 1?", "completion": f"It is {i + 1}."} for i in range(30)]
    assert check(run(rows), "unsupported_values")["summary"]["applicable"] is False


# ---- boilerplate -----------------------------------------------------------------------------------

def test_boilerplate_finds_refusals_signatures_and_one_answer_for_many_prompts():
    rows = [{"prompt": f"Customer {i} asks about refund {i}", "completion": f"Your refund {i} is on its way, customer {i}."}
            for i in range(40)]
    rows[1]["completion"] = "As an AI language model, I cannot see your order."
    rows[2]["completion"] = "I'm sorry, but I can't help with that."
    for i in (5, 10, 15, 20, 25):
        rows[i]["completion"] += "\n-- Reviewed by the quality team"
    for i in (30, 33):
        rows[i]["completion"] = "Please contact our billing department for details."
    res = check(run(rows), "boilerplate")
    by_kind = {}
    for f in res["findings"]:
        by_kind.setdefault(f["kind"], []).append(sorted(r["line"] for r in f["rows"]))
    assert by_kind["refusal"] == [[2], [3]]
    assert by_kind["repeated_closing"] == [[6, 11, 16, 21, 26]]
    assert by_kind["identical_answer"] == [[31, 34]]


def test_boilerplate_ignores_a_shared_final_line_format_and_identical_json():
    rows = [{"prompt": f"What is {i % 3} plus 0, case {i}?", "completion": f"It is {i % 3}.\n#### {i % 3}"} for i in range(30)]
    assert check(run(rows), "boilerplate")["findings"] == []
    same = [{"prompt": f"Message {i}: my Quill tablet arrived broken", "completion": '{"product": "Quill tablet", "issue": "arrived broken in the box"}'}
            for i in range(10)]
    assert check(run(same), "boilerplate")["summary"]["identical_answer_groups"] == 0


def test_boilerplate_lists_a_house_sign_off_as_style_and_keeps_grounded_identical_replies():
    """The sign-off under most replies is the voice the set teaches, not pasted text; two customers
    asking about the same product get the same reply rightly; one agent's phone signature is boilerplate."""
    products = ["Quill tablet", "Wren kettle", "Sable chair", "Echo speaker", "Orbit earbuds"]
    rows = [{"prompt": f"Customer {i}: my {products[i % 5]} broke, ticket {i}",
             "completion": f"Hi there,\n\nSorry about your {products[i % 5]}, ticket {i}. A new one ships today.\n\n"
                           "Warm regards,\nThe Parcelly Care team"} for i in range(40)]
    for i in (3, 9, 14, 22, 27):
        rows[i]["completion"] += "\n\nSent from my iPhone"
    rows[31]["completion"] = rows[30]["completion"] = ("Hi there,\n\nSorry about your Wren kettle. A new one ships today."
                                                       "\n\nWarm regards,\nThe Parcelly Care team")
    rows[30]["prompt"], rows[31]["prompt"] = "My wren kettle leaks", "The Wren kettle I got is cracked"
    res = check(run(rows), "boilerplate")
    assert [(f["kind"], sorted(r["line"] for r in f["rows"])) for f in res["findings"]] == \
        [("repeated_closing", [4, 10, 15, 23, 28])]
    assert res["info"]["house_style"] == [{"where": "closing", "phrase": "the parcelly care team", "rows": 35,
                                          "share": 0.875}]


def test_truncation_leaves_a_pasted_signature_and_rare_lists_to_the_other_checks():
    rows = [{"prompt": f"case {i}", "completion": f"Hi there,\n\nYour refund {i} is on its way.\n\nWarm regards,\nThe Care team"}
            for i in range(40)]
    rows[3]["completion"] += "\n\nSent from my iPhone"       # the ending is there, with more after it
    rows[7]["completion"] = "- Refund started\n- 3-5 working days"  # a rare list: output_format's finding
    rows[11]["completion"] = "Hi there,\n\nYour refund 11 is on"  # cut off
    assert lines(check(run(rows), "truncation")) == [12]


# ---- label_conflicts on JSON answers -----------------------------------------------------------------

def test_conflicts_compare_json_answers_field_by_field():
    rows = orders(20)
    other = json.loads(rows[4]["completion"])
    other["issue_type"] = "wrong_item"   # textually close, materially different
    rows.append({"prompt": rows[4]["prompt"], "completion": json.dumps(other)})
    same = json.loads(rows[6]["completion"])
    rows.append({"prompt": rows[6]["prompt"], "completion": json.dumps(same, indent=2)})  # the same answer
    res = check(run(rows), "label_conflicts")
    assert [sorted(r["line"] for r in f["rows"]) for f in res["findings"]] == [[5, 21]]


# ---- the planted extraction example ----------------------------------------------------------------

TARGETS = {f"{c}.{m}": (0.95 if m == "recall" else 0.9) for c in
           ("output_format", "truncation", "unsupported_values", "boilerplate", "label_conflicts", "leakage")
           for m in ("recall", "precision")}


def _planted(tmp_path_factory, name: str, form: str):
    generator = __import__(f"make_{name}")
    out = tmp_path_factory.mktemp(name)
    made = generator.make(seed=0)
    generator.write(out, made)
    return out, made["truth"], harness.audit(str(out / f"train{form}.jsonl"), str(out / f"eval{form}.jsonl"))


@pytest.fixture(scope="module")
def orders_audit(tmp_path_factory):
    return _planted(tmp_path_factory, "orders", "")


@pytest.fixture(scope="module")
def replies_audit(tmp_path_factory):
    """The reply-style example in chat form: a house sign-off under every natural reply."""
    return _planted(tmp_path_factory, "replies", "_chat")


@pytest.mark.parametrize("example", ["orders", "replies"])
@pytest.mark.parametrize("metric", list(TARGETS))
def test_planted_quality_target(request, example, metric):
    _, truth, result = request.getfixturevalue(f"{example}_audit")
    got = score_planted.score(result, truth)[metric]
    assert got >= TARGETS[metric], f"{example}: {metric} = {got:.3f} < {TARGETS[metric]}"


def test_orders_generator_is_deterministic_and_matches_the_shipped_example(orders_audit):
    out, truth, _ = orders_audit
    shipped = ROOT / "examples" / "orders"
    assert (out / "train.jsonl").read_bytes() == (shipped / "train.jsonl").read_bytes()
    assert (out / "train_chat.jsonl").read_bytes() == (shipped / "train_chat.jsonl").read_bytes()
    assert json.loads((shipped / "truth.json").read_text()) == truth


def test_orders_chat_form_gives_the_same_generative_findings(orders_audit):
    out, _, result = orders_audit
    chat = harness.audit(str(out / "train_chat.jsonl"), str(out / "eval_chat.jsonl"))
    for name in ("output_format", "truncation", "unsupported_values", "boilerplate"):
        assert lines(check(chat, name)) == lines(check(result, name)), name


def test_replies_generator_matches_the_shipped_example(replies_audit):
    out, truth, _ = replies_audit
    shipped = ROOT / "examples" / "replies"
    assert (out / "train_chat.jsonl").read_bytes() == (shipped / "train_chat.jsonl").read_bytes()
    assert json.loads((shipped / "truth.json").read_text()) == truth


def test_lists_among_prose_are_a_variant_unless_rare():
    """Steps written as a list in 15% of replies are content, not drift; one list in 100 replies is."""
    prose = [{"prompt": f"question {i}", "completion": f"You can do this in settings, customer {i}. It takes a minute."}
             for i in range(100)]
    listed = [dict(r, completion="Do this:\n- open settings\n- press reset") for r in prose[:15]] + prose[15:]
    assert check(run(listed), "output_format")["findings"] == []
    one = [dict(prose[0], completion="Do this:\n- open settings\n- press reset")] + prose[1:]
    [f] = check(run(one), "output_format")["findings"]
    assert f["rows"][0]["line"] == 1 and f["family"] == "list"


def test_annotation_consistency_finds_planted_inconsistencies():
    """Issue 29: examples/make_extraction.py plants a state typed as a city, a rating left out, "how" as
    a value and encoding damage; measured on seeds 0-3: recall 0.93-1.00, precision 1.00."""
    import sys
    from pathlib import Path

    import harness

    sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
    import make_extraction

    made = make_extraction.make(seed=0)
    got = make_extraction.score(harness.audit(made["train"]), made["truth"])
    assert got["recall"] >= 0.9 and got["precision"] >= 0.95, got
    assert all(got[f"{k}.recall"] >= 0.8 for k in ("phrase_typed_differently", "missing_annotation",
                                                     "function_word_value", "encoding_damage")), got


def test_annotation_consistency_leaves_numbers_and_other_intents_alone():
    import json

    import harness

    rows = [{"prompt": f"rate this album {i % 5 + 1} stars",
             "completion": json.dumps({"intent": "RateBook", "slots": {"rating_value": str(i % 5 + 1)}})} for i in range(20)]
    rows += [{"prompt": f"book a table for {i % 5 + 1} in oregon",
              "completion": json.dumps({"intent": "Book", "slots": {"party_size": str(i % 5 + 1), "state": "oregon"}})}
             for i in range(20)]
    rows += [{"prompt": "what is the weather in the city of oregon",
              "completion": json.dumps({"intent": "Weather", "slots": {"city": "oregon"}})}] * 3
    res = next(c for c in harness.audit(rows)["checks"] if c["check"] == "annotation_consistency")
    assert res["findings"] == [], res["findings"]


def test_annotation_consistency_reads_where_a_phrase_stands():
    """Issue 29, judged on ATIS: the surroundings decide a key by rights. "noon" alone is a time and in
    "between noon and" a range's start; "after" before a time is a time_relative and "after a turboprop"
    holds none: neither is flagged. "first" after a month typed as a class is (the month rows show it)."""
    import json

    import harness

    def row(text, intent, **slots):
        return {"prompt": text, "completion": json.dumps({"intent": intent, "slots": slots})}

    cities = ["boston", "denver", "dallas", "atlanta", "chicago", "miami"]
    rows = [row(f"flights to {c} at noon", "flight", city=c, time="noon") for c in cities]
    rows += [row(f"flights to {c} between noon and 2 pm", "flight", city=c, start_time="noon", end_time="2 pm")
             for c in cities[:2]]
    rows += [row(f"flights to {c} after {h} pm", "flight", city=c, time_relative="after", time=f"{h} pm")
             for c in cities for h in (5, 6)]
    rows += [row("which flight to denver is after a turboprop", "flight", city="denver")]
    rows += [row(f"flights to {c} on {m} first", "flight", city=c, month=m, day="first")
             for c, m in zip(cities, ["may", "june", "july", "march", "april", "august"])]
    rows += [row("flights to miami on october first", "flight", city="miami", month="october", class_type="first")]
    res = next(c for c in harness.audit(rows)["checks"] if c["check"] == "annotation_consistency")
    got = {(f["rows"][0]["line"], f["kind"]) for f in res["findings"]}
    assert got == {(len(rows), "phrase_typed_differently")}, res["findings"]
    [f] = res["findings"]
    assert f["majority_key"] == "day" and f["majority_rows"] == 6


def test_annotation_consistency_is_explained_by_either_annotated_side():
    """Issue 29, judged on US addresses (usaddress's hand-labelled set): "South" after an address-number
    suffix is a street name in four rows ("12 B South St"), but before a street name a direction in most
    ("10 South Main Ave"); "4922 B South Cornell Avenue" has it before a street name, as a direction,
    rightly. One annotated side that gives the phrase this row's key explains it."""
    import json

    import harness

    def row(text, **slots):
        return {"prompt": text, "completion": json.dumps({"slots": slots})}

    streets = ["Main", "Oak", "Elm", "Pine", "Lake", "Park", "Hill"]
    rows = [row(f"{n} B South St", AddressNumber=str(n), AddressNumberSuffix="B", StreetName="South",
                StreetNamePostType="St") for n in (12, 14, 16, 18)]
    rows += [row(f"{n} South {s} Ave", AddressNumber=str(n), StreetNamePreDirectional="South", StreetName=s,
                 StreetNamePostType="Ave") for n, s in zip(range(10, 80, 10), streets)]
    rows += [row("4922 B South Cornell Avenue", AddressNumber="4922", AddressNumberSuffix="B",
                 StreetNamePreDirectional="South", StreetName="Cornell", StreetNamePostType="Avenue")]
    res = next(c for c in harness.audit(rows)["checks"] if c["check"] == "annotation_consistency")
    assert not [f for f in res["findings"] if f["rows"][0]["line"] == len(rows)], res["findings"]


def test_annotation_consistency_reads_only_words_of_their_own():
    """Judged on WNUT-16 tweets: "dc" inside the handle @Dc_Luvs_Swift and "Twitter" inside "non-Twitter"
    could never have been annotated, so they are no missing annotation; a bare "London" left out is."""
    import json

    import harness

    def row(text, **entities):
        return {"prompt": text, "completion": json.dumps({"entities": entities})}

    names = ["Ann", "Bob", "Cid", "Dee", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jon", "Kim", "Lee", "Max", "Ned"]
    rows = [row(f"flying to {p} with {n} tonight", **{"geo-loc": p, "person": n})
            for p, n in zip(["London", "Paris"] * 4, names)]
    rows += [row(f"so tired of {p} traffic says {n}", **{"geo-loc": p, "person": n})
             for p, n in zip(["London", "Paris"] * 3, names[8:])]
    rows += [row("RT @London_Fan_Club: Oli is loud tonight", person="Oli"),
             row("a non-London crowd for Pat tonight", person="Pat"),
             row("tired London ladies with Quin tonight", person="Quin")]
    rows += [row(f"nothing to see here, {n}", person=n) for n in ["Rae", "Sam", "Tom", "Uma", "Val", "Wes"]]
    res = next(c for c in harness.audit(rows)["checks"] if c["check"] == "annotation_consistency")
    got = {(f["rows"][0]["line"], f["kind"]) for f in res["findings"]}
    assert got == {(17, "missing_annotation")}, res["findings"]


def test_one_annotated_side_measures_only_where_the_other_side_is_alike():
    """Judged on US addresses: "B" before a street name is an address-number suffix in eight rows that
    all have the address number before it; "B San Luis Street", with nothing before it, has "B" as its
    address number, rightly. A row that types "B" otherwise after a number is still flagged."""
    import json

    import harness

    def row(text, **slots):
        return {"prompt": text, "completion": json.dumps({"slots": slots})}

    streets = ["Main", "Oak", "Elm", "Pine", "Lake", "Park", "Hill", "Bay"]
    rows = [row(f"{n} B {s} Street", AddressNumber=str(n), AddressNumberSuffix="B", StreetName=s,
                StreetNamePostType="Street") for n, s in zip(range(10, 90, 10), streets)]
    rows += [row("B San Luis Street", AddressNumber="B", StreetName="San Luis", StreetNamePostType="Street")]
    rows += [row("77 B Cedar Street", AddressNumber="77", OccupancyIdentifier="B", StreetName="Cedar",
                 StreetNamePostType="Street")]
    res = next(c for c in harness.audit(rows)["checks"] if c["check"] == "annotation_consistency")
    got = {(f["rows"][0]["line"], f["kind"]) for f in res["findings"]}
    assert got == {(10, "phrase_typed_differently")}, res["findings"]


def test_a_missing_annotation_says_how_many_rows_gave_the_key_it_names():
    """Judged on US addresses: "east" is annotated in 34 of 35 addresses that hold it, but as a direction
    in only 17 (a post-direction or part of a place name elsewhere); the message must not say 34."""
    import json

    import harness

    def row(text, **slots):
        return {"prompt": text, "completion": json.dumps({"slots": slots})}

    rows = [row(f"{n} east main st", AddressNumber=str(n), StreetNamePreDirectional="east", StreetName="main",
                StreetNamePostType="st") for n in (10, 12, 14, 16, 18, 19, 21, 23, 25)]
    rows += [row(f"{n} oak ave east orange", AddressNumber=str(n), StreetName="oak", StreetNamePostType="ave",
                 PlaceName="east orange") for n in (30, 32, 34)]
    rows += [row("728 east roosevelt road", AddressNumber="728", StreetName="roosevelt", StreetNamePostType="road")]
    # "east" inside a stretch left out as a whole, beside a word no annotating row has there: no omission
    rows += [row("729 roosevelt road east side", AddressNumber="729", StreetName="roosevelt", StreetNamePostType="road")]
    res = next(c for c in harness.audit(rows)["checks"] if c["check"] == "annotation_consistency")
    [f] = [f for f in res["findings"] if f["kind"] == "missing_annotation"]
    assert f["rows"][0]["line"] == 13 and f["majority_rows"] == 12 and f["key_rows"] == 9
    assert "of the 14 requests that hold it (this one among them) 12 annotate it (9 of them as StreetNamePreDirectional)" in f["message"]


def _annotation_check(rows):
    import harness

    return next(c for c in harness.audit(rows)["checks"] if c["check"] == "annotation_consistency")


def _annotation_findings(rows):
    return {(f["rows"][0]["line"], f["kind"]) for f in _annotation_check(rows)["findings"]}


def _slots_row(text, **slots):
    import json

    return {"prompt": text, "completion": json.dumps({"slots": slots})}


def test_one_side_is_no_measure_where_this_rows_other_side_is_rare_among_the_majoritys():
    """Judged on person names: "S." before a surname is a middle initial in rows whose other side is a
    given name or a nickname (neither holds 80% of them); "S. Davenport", with nothing before "S.", has
    it as a first initial, rightly. A row with a given name before it that types it otherwise is flagged."""
    row = _slots_row
    given = ["Simon", "Gordon", "Lenwood", "Philip", "Yasmine", "Nevedita"]
    surnames = ["Lam", "Novak", "Heath", "Gonzalez", "Miranda", "Saraswat", "Cossairt", "Narayanan", "Ortiz",
                "Baker"]
    rows = [row(f"{g} S. {s}", GivenName=g, MiddleInitial="S.", Surname=s) for g, s in zip(given, surnames)]
    rows += [row(f"{g} ({g[:3]}) S. {s}", GivenName=g, Nickname=f"({g[:3]})", MiddleInitial="S.", Surname=s)
             for g, s in zip(["Oliver", "Shrikanth", "Robert", "Daniel"], surnames[6:])]
    rows += [row("S. Davenport", FirstInitial="S.", Surname="Davenport")]
    rows += [row("Alton S. Almquist", GivenName="Alton", MiddleName="S.", Surname="Almquist")]
    assert _annotation_findings(rows) == {(12, "phrase_typed_differently")}


def test_an_ampersand_is_the_word_it_stands_for():
    """Judged on organisation names: "& co" (and company) is consistently its own key; "co" alone
    (company) is another, so neither is flagged against the other. "& associates" and "and associates"
    are one phrase."""
    row = _slots_row
    firms = ["bipartisan sign", "travelers express", "pasta house", "quaker oats", "davis mgmt", "acme tool"]
    rows = [row(f"{f} co", CorporationName=f, CorporationNameOrganization="co") for f in firms]
    rows += [row(f"{f} & co", CorporationName=f, CorporationNameAndCompany="& co")
             for f in ["will davis", "alex displays", "swidler spanola"]]
    rows += [row(f"{f} and associates", CorporationName=f, CorporationNameAndCompany="and associates")
             for f in ["elliott", "brody", "huff", "char", "gates"]]
    rows += [row("siebert & associates", CorporationName="siebert", CorporationNameOrganization="& associates")]
    assert _annotation_findings(rows) == {(15, "phrase_typed_differently")}


def test_rows_standing_alike_are_the_measure_where_they_hold_a_majority_by_themselves():
    """Judged on person names: "j." between a given name and a surname is a middle initial in every row
    there, and a first initial at the start of others (so no key holds 80% of all its rows); "harry j
    piper" typing it as a middle name is flagged against the rows standing alike."""
    row = _slots_row
    given = ["adam", "bill", "carl", "dave", "eric", "fred"]
    surnames = ["lam", "novak", "heath", "ortiz", "baker", "moss"]
    rows = [row(f"{g} j. {s}", GivenName=g, MiddleInitial="j.", Surname=s) for g, s in zip(given, surnames)]
    rows += [row(f"j. {s}", FirstInitial="j.", Surname=s) for s in ["cloer", "rice", "gacs", "xiao"]]
    rows += [row("harry j. piper", GivenName="harry", MiddleName="j.", Surname="piper")]
    assert _annotation_findings(rows) == {(11, "phrase_typed_differently")}


def test_a_missing_annotation_counts_the_key_among_the_rows_that_annotate_the_phrase():
    """Judged on tweets: "twitter" was said to be annotated as a company "in 29" of the 25 rows that
    annotate it (the 29 counted every annotation, rows holding it twice and handles included). The key's
    count is taken among the rows the message speaks of."""
    import json

    def row(text, **entities):
        return {"prompt": text, "completion": json.dumps({"entities": entities})}

    rows = [row(f"love twitter today {i}", company="twitter") for i in range(6)]
    rows += [row(f"twitter and twitter again {i}", company=["twitter", "twitter"]) for i in range(3)]
    rows += [row("my twitter age is 458 days")]
    [f] = [f for f in _annotation_check(rows)["findings"] if f["kind"] == "missing_annotation"]
    assert f["key_rows"] <= f["majority_rows"] == 9 and f["rows_holding"] == 10, f
