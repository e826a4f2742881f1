"""Issue 30, items 16, 17 and 21: the token estimate by script (Chinese rows were counted at a sixth of
their tokens, so none was flagged as truncated), the shortcuts check on labels that are all unique (it
crashed), and eval text pasted into a training row's system turn (not reported as a leak). The Spark
tests are skipped without PySpark or Java, as tests/test_spark.py."""

import shutil

import numpy as np
import pytest

import harness
from conftest import check, write_jsonl
from harness.model.tokens import estimate_tokens

# ---- 16: the token estimate ---------------------------------------------------------------------------
ZH = ("人工智能是计算机科学的一个分支，它企图了解智能的实质，并生产出一种新的能以人类智能相似的方式做出反应的智能机器。"
      "该领域的研究包括机器人、语言识别、图像识别、自然语言处理和专家系统等。自从人工智能诞生以来，理论和技术日益成熟，"
      "应用领域也不断扩大。可以设想，未来人工智能带来的科技产品，将会是人类智慧的容器。")
JA = ("お客様のアカウントにログインできない場合は、まずパスワードをリセットしてください。それでも問題が解決しない場合は、"
      "サポートチームにお問い合わせください。東京本社の担当者が二十四時間以内に対応いたします。")
KO = ("인공지능은 인간의 학습능력과 추론능력 지각능력을 인공적으로 구현하려는 컴퓨터 과학의 세부분야 중 하나이다. "
      "계정에 로그인할 수 없는 경우 먼저 비밀번호를 재설정해 주세요. 문제가 계속되면 지원팀에 문의해 주시기 바랍니다.")
EN = ("If you cannot log in to your account, first try resetting your password and clearing the browser cache. "
      "If the problem persists, contact technical support with your username and a screenshot of the error. "
      "We will reply within twenty-four hours.")
CODE = '''def merge_intervals(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge overlapping intervals."""
    intervals = sorted(intervals)
    merged = []
    for start, end in intervals:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
'''
SAMPLES = {"chinese": ZH, "japanese": JA, "korean": KO, "english": EN, "python": CODE}


def _smollm2_tokenizer():
    """SmolLM2's tokenizer (49k byte-level BPE, the built-in model's) from the harness cache, where
    tests/test_models.py or `harness demo` put it; the test says so and skips where it is not there."""
    from harness.model.loading import cache_dir

    path = cache_dir() / "models" / "smollm2-135m-instruct" / "tokenizer.json"
    if not path.is_file():
        pytest.skip(f"SmolLM2's tokenizer is not in the harness cache ({path}): run tests/test_models.py once")
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(path))


@pytest.mark.parametrize("script", SAMPLES)
def test_token_estimate_is_within_a_stated_factor_of_a_real_bpe(script):
    """Within 0.9x-1.5x of SmolLM2's count on each script: erring high, never far low (the Chinese text
    was estimated at 0.15x before)."""
    tok = _smollm2_tokenizer()
    text = SAMPLES[script]
    real = len(tok.encode(text, add_special_tokens=False).ids)
    assert 0.9 * real <= estimate_tokens(text) <= 1.5 * real, (script, estimate_tokens(text), real)


def test_token_estimate_against_documented_gpt_style_bpe_figures():
    """Without a tokenizer at hand: documented figures for GPT-style byte-level BPE. English runs at about
    4 characters a token (OpenAI's rule of thumb); a CJK character costs at least one token (cl100k) and at
    most its 3 UTF-8 bytes; whitespace runs (blank lines, indentation) cost tokens too."""
    assert len(EN) / 6 <= estimate_tokens(EN) <= len(EN) / 3
    for text in (ZH, JA, KO):
        cjk = sum(1 for ch in text if ord(ch) >= 0x3040 and not ch.isspace())
        assert cjk <= estimate_tokens(text) <= 3 * len(text)
    assert estimate_tokens("a\n\n\n\n\n\nb") >= estimate_tokens("a b") + 4
    assert estimate_tokens("x = 1\n" + " " * 16 + "y = 2") > estimate_tokens("x = 1\ny = 2")
    assert estimate_tokens("12345678") == 8       # digit by digit, as SmolLM2 and Llama split numbers
    assert estimate_tokens("") == 0 and estimate_tokens(" ") == 0


def test_chinese_rows_past_max_seq_len_are_flagged_without_a_tokenizer():
    """The reported case: long Chinese rows were estimated far under max_seq_len (0 of them flagged)."""
    rows = [{"prompt": f"short prompt {i}", "completion": f"short answer {i}"} for i in range(20)]
    rows += [{"prompt": ZH + ZH, "completion": ZH} for _ in range(3)]
    res = check(harness.audit(rows, None, {"max_seq_len": 512}), "length")
    assert res["info"]["counted_with"].startswith("estimate")
    truncated = sorted(f["rows"][0]["line"] for f in res["findings"] if f["kind"] == "truncated")
    assert truncated == [21, 22, 23] and res["summary"]["truncated_rows"] == 3


# ---- 17: shortcuts on labels that are all unique -----------------------------------------------------
UNIQUE = [{"text": f"request number {i} about thing {i % 7} please help", "label": f"label_{i}"} for i in range(80)]


def test_shortcuts_says_why_it_cannot_apply_when_every_label_is_unique():
    audit = harness.audit(UNIQUE, None, None)
    res = check(audit, "shortcuts")
    assert res["status"] != "error", res.get("reasons")
    assert res["summary"]["applicable"] is False and "every label is unique" in res["summary"]["reason"]
    assert not any(c["status"] == "error" for c in audit["checks"])


def test_surface_test_with_no_label_left_after_dropping_singletons():
    """The surface test keeps labels with two rows or more; none left is 'not tested', not a crash."""
    from harness.checks.shortcuts import SURFACE_FEATURES, Shortcuts, surface_test

    out = surface_test(np.zeros((60, len(SURFACE_FEATURES))), [f"l{i}" for i in range(60)],
                       [{"split": "train", "line": i + 1} for i in range(60)], Shortcuts.Params())
    assert out["tested"] is False


# ---- 21: eval text inside training rows' system turns ------------------------------------------------
EVAL_Q = "My order arrived with a cracked screen and the box was soaking wet from the rain"


def _chat_train(system_for=lambda i: "You are a support agent for the Acme store."):
    return [{"messages": [{"role": "system", "content": system_for(i)},
                          {"role": "user", "content": f"Question {i}: where is parcel number {i} going today"},
                          {"role": "assistant", "content": f"Parcel {i} is on its way to depot {i % 5}."}]}
            for i in range(40)]


def _chat_eval():
    return [{"messages": [{"role": "user", "content": EVAL_Q},
                          {"role": "assistant", "content": "Sorry about that, we will send a new one."}]},
            {"messages": [{"role": "user", "content": "A question about something nobody in train ever wrote down"},
                          {"role": "assistant", "content": "Noted."}]}]


def test_eval_text_in_one_training_rows_system_turn_is_a_leak():
    train = _chat_train(lambda i: f"You are a support agent. A past request: {EVAL_Q}." if i == 7
                        else "You are a support agent for the Acme store.")
    res = check(harness.audit(train, _chat_eval(), None), "leakage")
    [f] = res["findings"]
    assert f["rows"] == [{"split": "eval", "line": 1}, {"split": "train", "line": 8}]
    assert f["kind"] == "ngram" and f["found_in"] == "beyond_request" and "system turn" in f["message"]
    assert res["summary"]["leaked_eval_rows"] == 1 and res["status"] == "fail"


def test_eval_text_in_a_system_prompt_every_row_shares_is_a_leak():
    """A shared system prompt is one document for the n-gram index: its n-grams are not 'common'."""
    train = _chat_train(lambda i: f"You are a support agent. Example request: {EVAL_Q}. Answer briefly.")
    res = check(harness.audit(train, _chat_eval(), None), "leakage")
    [f] = res["findings"]
    assert f["rows"][0] == {"split": "eval", "line": 1} and f["train_matches"] == 40 and len(f["rows"]) == 21


def test_probe_item_in_a_system_turn_is_found():
    probe = {"probe": "facts", "id": "q1", "text": "The capital city of Australia is not Sydney but Canberra, chosen as a compromise"}
    train = _chat_train(lambda i: f"Background: {probe['text']}." if i == 3 else "You are a support agent.")
    res = check(harness.audit(train, None, None, probes=[probe]), "leakage")
    [f] = res["findings"]
    assert f["kind"] == "probe_ngram" and f["rows"] == [{"split": "train", "line": 4}] and f["found_in"] == "beyond_request"


def test_a_system_prompt_without_the_eval_text_is_no_leak():
    res = check(harness.audit(_chat_train(), _chat_eval(), None), "leakage")
    assert res["findings"] == [] and res["summary"]["leaked_eval_rows"] == 0


# ---- both engines ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def spark():
    pytest.importorskip("pyspark", reason="the Spark engine needs PySpark (pip install -e '.[spark]')")
    if not shutil.which("java"):
        pytest.skip("the Spark engine needs a Java runtime (openjdk-17-jre-headless)")
    from harness.auditing.spark.session import spark_session

    session = spark_session("local[2]", {"shuffle_partitions": 4})
    yield session
    session.stop()


def _both(spark, train, eval, probes=None):
    from harness.auditing.policy import load_policy
    from harness.auditing.spark.audit import audit_spark

    return (harness.audit(str(train), str(eval) if eval else None, None, probes=probes),
            audit_spark(str(train), str(eval) if eval else None, load_policy(None), probes=probes or [], spark=spark))


def test_spark_system_turn_leaks_and_unique_labels(spark, tmp_path):
    """Items 17 and 21 on the Spark engine: the same leakage findings (row, shared prompt, probe) and the
    same 'not applicable' from shortcuts as in-process."""
    train = _chat_train(lambda i: (f"You are a support agent. A past request: {EVAL_Q}." if i == 7 else
                                   "Background: The capital city of Australia is not Sydney but Canberra, chosen as a "
                                   "compromise." if i == 3 else "You are a support agent for the Acme store."))
    probe = {"probe": "facts", "id": "q1", "text": "The capital city of Australia is not Sydney but Canberra, chosen as a compromise"}
    a, b = _both(spark, write_jsonl(tmp_path / "train.jsonl", train), write_jsonl(tmp_path / "eval.jsonl", _chat_eval()),
                 probes=[probe])
    la, lb = check(a, "leakage"), check(b, "leakage")
    assert lb["status"] != "error", lb["info"].get("traceback")
    assert (la["summary"], la["findings"]) == (lb["summary"], lb["findings"])
    assert [f["kind"] for f in la["findings"]] == ["ngram", "probe_ngram"]
    shared = _chat_train(lambda i: f"You are a support agent. Example request: {EVAL_Q}. Answer briefly.")
    a, b = _both(spark, write_jsonl(tmp_path / "shared.jsonl", shared), tmp_path / "eval.jsonl")
    assert check(a, "leakage")["findings"] == check(b, "leakage")["findings"] != []
    a, b = _both(spark, write_jsonl(tmp_path / "unique.jsonl", UNIQUE), None)
    sa, sb = check(a, "shortcuts"), check(b, "shortcuts")
    assert sb["status"] != "error", sb["info"].get("traceback")
    assert sa["summary"] == sb["summary"] and sa["summary"]["applicable"] is False
