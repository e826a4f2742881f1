"""The Spark engine gives the in-process engine's answers: same statuses, summaries and findings (same
clusters, same rows) on the planted-defect data, in JSONL and as chat rows in Parquet; label_errors
says when it sampled; the CLI runs it. Spark local mode; skipped (with the reason) without PySpark or
Java. CI installs both (.ci/run, Makefile)."""

import json
import shutil

import pytest

pyspark = pytest.importorskip("pyspark", reason="the Spark engine needs PySpark (pip install -e '.[spark]')")
if not shutil.which("java"):
    pytest.skip("the Spark engine needs a Java runtime (openjdk-17-jre-headless)", allow_module_level=True)

import harness  # noqa: E402
from harness.auditing.policy import load_policy  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from harness.auditing.spark.session import spark_session

    session = spark_session("local[2]", {"shuffle_partitions": 4})
    yield session
    session.stop()


def both(train, eval, policy, spark, **overrides):
    from harness.auditing.spark.audit import audit_spark
    from harness.suites import probe_items

    pol = load_policy(policy)
    for key, value in overrides.items():
        (pol["data"] if key in pol["data"] else pol)[key] = value   # max_seq_len: the data spec's
    mine = harness.audit(str(train), str(eval) if eval else None, pol)
    probes = probe_items() if pol["checks"]["leakage"]["params"]["probes"] else []
    other = audit_spark(str(train), str(eval) if eval else None, pol, probes=probes, spark=spark)
    return mine, other


def assert_same(a, b):
    assert a["verdict"] == b["verdict"]
    assert [c["check"] for c in a["checks"]] == [c["check"] for c in b["checks"]]
    for ca, cb in zip(a["checks"], b["checks"]):
        assert cb["status"] != "error", (cb["check"], cb["reasons"], cb["info"].get("traceback"))
        assert (ca["check"], ca["status"], ca["summary"]) == (cb["check"], cb["status"], cb["summary"])
        assert ca["findings"] == cb["findings"], ca["check"]
    for split in a["inputs"]:
        assert a["inputs"][split] == b["inputs"][split]


def test_same_findings_as_in_process_on_the_planted_tickets(tickets, tickets_policy, spark):
    out, _ = tickets
    a, b = both(out / "train.jsonl", out / "eval.jsonl", tickets_policy, spark)
    assert b["engine"]["name"] == "spark" and a["engine"]["name"] == "inprocess"
    assert_same(a, b)
    # The planted defects are there to be found, not an empty match of two empty results.
    found = {c["check"]: len(c["findings"]) for c in b["checks"]}
    assert all(found[c] > 0 for c in ("exact_duplicates", "near_duplicates", "label_conflicts", "label_errors",
                                       "leakage", "shortcuts", "pii", "length"))


def test_same_findings_on_chat_rows_read_from_parquet(tickets, tickets_policy, spark, tmp_path):
    """Chat rows whose final turn is a label (judged as classification), as Parquet, with a block of
    more than 64 near-identical rows so that an LSH bucket is chained rather than fully paired."""
    import pandas as pd

    out, _ = tickets
    rows = [json.loads(line) for line in (out / "train_chat.jsonl").read_text().splitlines() if line.strip()]
    rows = [r for r in rows if isinstance(r.get("messages"), list)]
    rows += [{"messages": [{"role": "user", "content": f"My order number {n} has not arrived, where is it please"},
                           {"role": "assistant", "content": "delivery"}]} for n in range(1000, 1080)]
    pd.DataFrame(rows).to_parquet(tmp_path / "train.parquet")
    ev = [json.loads(line) for line in (out / "eval_chat.jsonl").read_text().splitlines() if line.strip()]
    pd.DataFrame([r for r in ev if isinstance(r.get("messages"), list)]).to_parquet(tmp_path / "eval.parquet")
    # The block is one template (only the number varies): with families on, it is reported as a family
    # and skipped by the near-duplicate search; off here, so that the LSH bucket chaining is exercised.
    no_families = {**load_policy(tickets_policy)["templates"], "min_family_rows": 10**9}
    a, b = both(tmp_path / "train.parquet", tmp_path / "eval.parquet", tickets_policy, spark, templates=no_families)
    assert b["inputs"]["train"]["shape"] == "chat" and b["label_source"] == "completion"
    assert_same(a, b)
    near = next(c for c in b["checks"] if c["check"] == "near_duplicates")
    assert near["summary"]["largest_cluster"] >= 80


def test_label_errors_above_max_rows_score_the_same_stratified_sample(tickets, tickets_policy, spark):
    out, _ = tickets
    pol = load_policy(tickets_policy)
    pol["checks"]["label_errors"]["params"]["max_rows"] = 400
    for name in pol["checks"]:
        pol["checks"][name]["enabled"] = name == "label_errors"
    a, b = both(out / "train.jsonl", None, pol, spark)
    mine, other = a["checks"][0], b["checks"][0]
    assert other["summary"]["sampled"] is True and other["summary"]["rows_scored"] == 400
    assert (mine["summary"], mine["findings"]) == (other["summary"], other["findings"]) and other["findings"]


def test_cli_engine_flag(tickets, tickets_policy, tmp_path, capsys):
    from harness.app.cli import main

    out, _ = tickets
    code = main(["audit", str(out / "train.jsonl"), "--eval", str(out / "eval.jsonl"), "--policy", tickets_policy,
                 "--engine", "spark", "--spark-master", "local[2]", "--out", str(tmp_path / "a"), "--quiet"])
    result = json.loads((tmp_path / "a" / "audit.json").read_text())
    assert code == 1 and result["verdict"] == "fail" and result["engine"]["master"].startswith("local")
    assert main(["audit", str(out / "train.jsonl"), "--engine", "spark", "--out", str(tmp_path / "b"),
                 "--field", "text=body"]) == 2  # bad input stays a one-line exit 2 on Spark too
    capsys.readouterr()
    missing = tmp_path / "nope.jsonl"
    assert main(["audit", str(missing), "--engine", "spark", "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{missing}: no such file or directory") and "\n" not in err and "Traceback" not in err
    # A URI is not checked before Spark starts: Spark's own "path not found" becomes the same one line.
    assert main(["audit", missing.as_uri(), "--engine", "spark", "--out", str(tmp_path / "d")]) == 2
    assert capsys.readouterr().err.strip().endswith(f"{missing.as_uri()}: no such file or directory")


def test_same_findings_as_in_process_on_the_planted_orders(spark, tmp_path):
    """Generative data: the output checks (output_format, truncation, unsupported_values, boilerplate)
    and conflicts compared field by field give the same answers on Spark."""
    from conftest import ROOT

    shipped = ROOT / "examples" / "orders"
    a, b = both(shipped / "train.jsonl", shipped / "eval.jsonl", None, spark)
    assert_same(a, b)
    found = {c["check"]: len(c["findings"]) for c in b["checks"]}
    assert all(found[c] > 0 for c in ("output_format", "truncation", "unsupported_values", "boilerplate",
                                       "label_conflicts", "leakage"))


def test_same_findings_on_sharegpt_and_preference_rows(spark, tmp_path):
    """Rows written as ShareGPT and as preference pairs read the same way on both engines (the format is
    converted per partition), with the same schema errors, preference findings and lengths."""
    from conftest import write_jsonl

    share = [{"conversations": [{"from": "human", "value": f"How do I reset router {i} at home?"},
                                {"from": "gpt", "value": f"Hold the reset button of router {i} for ten seconds."}]}
             for i in range(40)]
    share[5]["conversations"][0]["from"] = "narrator"
    share[9] = dict(share[8])
    a, b = both(write_jsonl(tmp_path / "s.jsonl", share), None, None, spark)
    assert_same(a, b)
    assert a["inputs"]["train"]["written_as"] == "sharegpt"
    prefs = [{"prompt": f"Explain topic {i}", "chosen": f"Topic {i} is about the sea and case {i}.", "rejected": f"No {i}."}
             for i in range(40)]
    prefs[3]["rejected"] = prefs[3]["chosen"]
    prefs[7]["rejected"] = "word " * 400
    a, b = both(write_jsonl(tmp_path / "p.jsonl", prefs), None, None, spark, max_seq_len=200)
    assert_same(a, b)
    pairs = next(c for c in b["checks"] if c["check"] == "preference_pairs")
    assert [f["rows"][0]["line"] for f in pairs["findings"]] == [4]


def test_emoji_decide_and_look_alike_copies_are_found_in_both_engines(spark, tmp_path):
    """Issue 29: "the parcel 👍" / "the parcel 👎" is no conflict; a copy in Cyrillic look-alike letters is
    a duplicate, a conflict and a leak, the same in both engines."""
    rows = [{"text": "the parcel 👍", "label": "positive"}, {"text": "the parcel 👎", "label": "negative"},
            {"text": "How do I request a refund for my order?", "label": "refund"},
            {"text": "Hоw dо I requеst a refund for my оrder?", "label": "delivery"}]   # Cyrillic о, е
    rows += [{"text": f"question number {k} about something else entirely", "label": "other"} for k in range(30)]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    (tmp_path / "eval.jsonl").write_text(json.dumps({"text": "how do i requеst a refund for my order", "label": "refund"},
                                                    ensure_ascii=False) + "\n")
    a, b = both(tmp_path / "train.jsonl", tmp_path / "eval.jsonl", None, spark)
    assert_same(a, b)
    conflicts = next(c for c in a["checks"] if c["check"] == "label_conflicts")["findings"]
    assert [sorted(r["line"] for r in f["rows"]) for f in conflicts] == [[3, 4]]
    leaks = next(c for c in a["checks"] if c["check"] == "leakage")["findings"]
    assert leaks and leaks[0]["rows"][0] == {"split": "eval", "line": 1}


def test_an_exact_leak_lists_its_near_copies_in_both_engines(spark, tmp_path):
    """Cleaning an exact leak removes its near copies too (same label only), the same in both engines."""
    rows = [{"text": "My parcel never arrived and tracking is stuck", "label": "delivery"},
            {"text": "hi team, my parcel never arived and tracking is stuck", "label": "delivery"},
            {"text": "My parcel never arrived and tracking is stuck!!", "label": "billing"}]
    rows += [{"text": f"question number {k} about something else entirely", "label": "other"} for k in range(30)]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "eval.jsonl").write_text(json.dumps(rows[0]) + "\n")
    a, b = both(tmp_path / "train.jsonl", tmp_path / "eval.jsonl", None, spark)
    assert_same(a, b)
    [f] = next(c for c in a["checks"] if c["check"] == "leakage")["findings"]
    assert f["kind"] == "exact" and [r["line"] for r in f["rows"][1:]] == [1, 2]


def _cut(path, kind=".gz"):
    """A JSONL file of 4,000 rows, compressed and cut at 75% (issue 30.5)."""
    import gzip

    data = "".join(json.dumps({"text": f"row {i} about something {i * 7}", "label": "ab"[i % 2]}) + "\n"
                   for i in range(4000)).encode()
    packed = gzip.compress(data) if kind == ".gz" else pytest.importorskip("zstandard").ZstdCompressor().compress(data)
    path.write_bytes(packed[: int(len(packed) * 0.75)])
    return path


@pytest.mark.parametrize("name,reason", [("train.jsonl.gz", "truncated: the compressed stream ends"),
                                         ("parts.jsonl/b.jsonl.gz", "truncated: the compressed stream ends"),
                                         ("train.jsonl.zst", "the Spark engine does not read .zst"),
                                         ("parts.jsonl/b.jsonl.zst", "the Spark engine does not read .zst"),
                                         ("train.parquet.gz", "Parquet compresses internally")])
def test_cut_off_or_unreadable_compressed_input_is_a_one_line_error_on_spark(tmp_path, capsys, name, reason):
    """Issue 30.5: a cut-off .jsonl.gz ended the Spark audit in exit 3 and a JVM stack trace (Hadoop's
    "Unexpected end of input stream"); .zst, which Spark does not read, was refused without saying so. A
    local file (or a directory's file) is checked before the JVM starts: exit 2, the file and the reason."""
    from harness.app.cli import main

    import gzip

    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    _cut(path, ".zst" if name.endswith(".zst") else ".gz")
    given = path
    if path.parent != tmp_path:   # a directory of parts, one of them bad
        (path.parent / "a.jsonl.gz").write_bytes(gzip.compress(b'{"text": "a", "label": "b"}\n'))
        given = path.parent
    assert main(["audit", str(given), "--engine", "spark", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"harness: error: {path}: ") and reason in err, err
    assert "\n" not in err and "Traceback" not in err


def test_spark_read_failures_become_input_errors_with_the_file(spark, tmp_path):
    """Issue 30.5: where Spark reads the file itself (a remote path is not checked beforehand), its failure
    to read a cut-off .gz is the same one-line error naming the file, not a Py4JJavaError."""
    from harness.core.errors import InputError
    from harness.auditing.spark.load import load_split

    for given, named in ((_cut(tmp_path / "t.jsonl.gz"), tmp_path / "t.jsonl.gz"),
                         (tmp_path / "d.jsonl", tmp_path / "d.jsonl" / "b.jsonl.gz")):
        if given == tmp_path / "d.jsonl":
            given.mkdir()
            _cut(given / "b.jsonl.gz")
        with pytest.raises(InputError, match="truncated: the compressed stream ends") as err:
            load_split(spark, given.as_uri(), "train", None, {}, None)
        assert str(err.value).startswith(f"{named}: ") and "\n" not in str(err.value)


def test_a_spark_read_failure_names_the_file_and_the_reason():
    """The message of Spark's FAILED_READ_FILE (Spark 4: file:///..., Spark 3: file:/...) gives the file and
    the cause; a failure that is not reading a file (a crashed Python worker) is left alone."""
    from harness.auditing.spark.load import read_failure

    text = ("An error occurred while calling o40.count.\n: org.apache.spark.SparkException: [FAILED_READ_FILE.NO_HINT] "
            "Encountered error while reading file file:///data/t.jsonl.gz.  SQLSTATE: KD001\n\tat x\n"
            "Caused by: java.io.EOFException: Unexpected end of input stream\n\tat y")
    assert read_failure(text) == ("/data/t.jsonl.gz", "truncated: the compressed stream ends before its end marker; "
                                                      "the file was cut off")
    other = text.replace("file:///", "file:/").replace("EOFException: Unexpected end of input stream",
                                                       "IOException: not a gzip file")
    assert read_failure(other) == ("/data/t.jsonl.gz", "Spark cannot read it (IOException: not a gzip file)")
    assert read_failure("Python worker exited unexpectedly (crashed)\nCaused by: java.io.EOFException") is None


def test_eval_rows_of_another_shape_are_read_in_their_own_on_spark_too(spark, tmp_path):
    """Issue 29: eval rows written in another shape than the training rows are read in their own and
    mapped onto the training task on Spark as in-process (harness/inputs/eval_shapes.py), so a chat copy of a
    labelled training row is a leak on both engines and the checklist says so, not "unknown"; an eval set
    of another shape that copies nothing is clean on both."""
    from conftest import leaky_eval_rows, write_jsonl
    from reports.view import _leakage_answer

    train, ev = leaky_eval_rows()
    a, b = both(write_jsonl(tmp_path / "train.jsonl", train), write_jsonl(tmp_path / "eval.jsonl", ev), None, spark)
    assert_same(a, b)
    for result in (a, b):
        assert result["inputs"]["eval"]["read_in_own_shape"] == {"chat": 15}
        by = {c["check"]: c for c in result["checks"]}
        assert by["leakage"]["summary"]["leaked_eval_rows"] == 15
        assert _leakage_answer(result, by)[0] == "no"
    # The other way round: chat training rows, an eval set that is half labelled rows, none copied.
    chats = [{"messages": [{"role": "user", "content": f"where is parcel {i} headed after the depot {i * 3}"},
                           {"role": "assistant", "content": f"Parcel {i} goes to the hub in town {i % 9} next."}]}
             for i in range(40)]
    fresh = [{"text": f"a brand new request {i} about a refund for subscription tier {i}", "label": "refund"}
             for i in range(10)] + [
        {"messages": [{"role": "user", "content": f"totally different ask {i} about invoices"},
                      {"role": "assistant", "content": f"Invoice {i} is sent monthly."}]} for i in range(10)]
    a, b = both(write_jsonl(tmp_path / "chat.jsonl", chats), write_jsonl(tmp_path / "fresh.jsonl", fresh), None, spark)
    assert_same(a, b)
    for result in (a, b):
        assert result["inputs"]["eval"]["read_in_own_shape"] == {"classification": 10}
        by = {c["check"]: c for c in result["checks"]}
        assert _leakage_answer(result, by)[0] == "yes"


def test_run_in_closings_and_misspelt_merged_words_are_found_in_both_engines(spark, tmp_path):
    """Issue 29: a closing the data sets off after other requests ("... Talk soon.") is one when run into a
    request too, and a short row with merged words ("hi my cardwasstolen") is a copy; the same in both
    engines (the closings are collected from the texts, the candidate keys made where the texts are)."""
    rows = [{"text": "My card has not arrived yet. Talk soon.", "label": "card_arrival"},
            {"text": "My PIN is blocked? Talk soon.", "label": "pin_blocked"},
            {"text": "I want to close my account. Talk soon.", "label": "close"},
            {"text": "where is the refund for my order Talk soon", "label": "refund"},
            {"text": "where is the refund for my order", "label": "refund"},
            {"text": "hi my cardwasstolen", "label": "lost"},
            {"text": "hi my card was stolen", "label": "lost"},
            {"text": "my card was declined at the shop", "label": "declined"},
            {"text": "the card is frozen", "label": "frozen"}]
    rows += [{"text": f"my {thing} was stolen", "label": "lost"} for thing in ("phone", "bike", "bag", "wallet")]
    rows += [{"text": f"question number {k} about something else entirely", "label": "other"} for k in range(30)]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    pair_checks = {"checks": {"label_errors": {"enabled": False}}}   # not what this is about, and slow
    a, b = both(tmp_path / "train.jsonl", None, pair_checks, spark)
    assert_same(a, b)
    near = next(c for c in a["checks"] if c["check"] == "near_duplicates")["findings"]
    assert [sorted(r["line"] for r in f["rows"]) for f in near] == [[4, 5], [6, 7]]


def test_extraction_annotations_are_judged_where_the_rows_are(spark, tmp_path):
    """Issue 31.6: the generative checks run on the executors (set figures by count_keys and
    distinct_counts, each row judged by scan_answers) and find what in-process finds on planted
    extraction data: a state typed as a city, a rating left out, "how" as a value, encoding damage."""
    import sys

    from conftest import ROOT, write_jsonl

    sys.path.insert(0, str(ROOT / "examples"))
    import make_extraction

    made = make_extraction.make(seed=0)
    a, b = both(write_jsonl(tmp_path / "x.jsonl", made["train"]), None, None, spark)
    assert_same(a, b)
    by = {c["check"]: c for c in b["checks"]}
    kinds = {f["kind"] for f in by["annotation_consistency"]["findings"]}
    assert kinds == {"phrase_typed_differently", "missing_annotation", "function_word_value", "encoding_damage"}, kinds
    assert make_extraction.score(b, made["truth"])["recall"] >= 0.9


def test_lone_names_one_letter_apart_stay_apart_in_both_engines(spark, tmp_path):
    """Judged on person names: "PAM" / "SAM" and "WILL" / "MAY" are different inputs (no near duplicate,
    no conflict), "THOMAS" labelled two ways is a conflict, "balanse" / "balance" with nothing else
    shared is one input; "j." typed as a middle name between a given name and a surname is flagged.
    The same in both engines."""
    def row(text, **slots):
        return {"prompt": text, "completion": json.dumps({"slots": slots})}

    rows = [row("PAM", GivenName="PAM"), row("SAM", GivenName="SAM"), row("WILL", GivenName="WILL"),
            row("MAY", Surname="MAY"), row("THOMAS", GivenName="THOMAS"), row("THOMAS", Surname="THOMAS")]
    rows += [row(f"{g} j. {s}", GivenName=g, MiddleInitial="j.", Surname=s)
             for g, s in zip(["adam", "bill", "carl", "dave", "eric", "fred"], ["lam", "novak", "heath", "ortiz", "baker", "moss"])]
    rows += [row(f"j. {s}", FirstInitial="j.", Surname=s) for s in ["cloer", "rice", "gacs", "xiao"]]
    rows += [row("harry j. piper", GivenName="harry", MiddleName="j.", Surname="piper")]
    rows += [row(f"balance {k}", Surname="balance") for k in range(12)] + [row("balanse", Surname="balanse")]
    rows += [row("balance", Surname="balance")]
    (tmp_path / "train.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    a, b = both(tmp_path / "train.jsonl", None, None, spark)
    assert_same(a, b)
    by = {c["check"]: c for c in a["checks"]}
    near = [sorted(r["line"] for r in f["rows"]) for f in by["near_duplicates"]["findings"]]
    assert near == [[30, 31]], near
    conflicts = [sorted(r["line"] for r in f["rows"]) for f in by["label_conflicts"]["findings"]]
    assert [5, 6] in conflicts and not any(set(c) & {1, 2, 3, 4} for c in conflicts), conflicts
    flagged = {(f["rows"][0]["line"], f["kind"]) for f in by["annotation_consistency"]["findings"]}
    assert (17, "phrase_typed_differently") in flagged, flagged


def test_the_engines_give_the_generative_checks_no_text_columns():
    """Issue 31.6: no engine operation hands a check a split's prompts and answers as lists (they
    stayed on the driver before); the generative checks read them through count_keys, distinct_counts
    and scan_answers."""
    from harness.auditing.audit_data import AuditData
    from harness.auditing.spark.data import SparkAuditData

    for engine in (AuditData, SparkAuditData):
        assert not hasattr(engine, "generations") and not hasattr(engine, "answer_pairs")
