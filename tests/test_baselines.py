"""Prompting and retrieval baselines: k-shot prompt building, retrieval that never hands the model its
own answer, the worth-it verdict, and the suite on the tiny model (base only, cached, paired with the
task suite row for row)."""

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.comparing.comparison import compare
from harness.inputs.data import Example
from harness.training.trainer import train
from harness.suites.baselines import duplicates_of, retrieve, stratified_shots, with_shots, worth_it
from harness.suites.base import Context
from tiny_model import build_tiny_model

from test_compare import FAST, rows as random_rows


def ex(text, label=None, line=1, split="train"):
    return Example(split, line, text, None, label, {"text": text})


def test_stratified_shots_follow_label_shares_and_avoid_banned_rows():
    train = [ex(f"a{i}", "big", i) for i in range(60)] + [ex(f"b{i}", "mid", 60 + i) for i in range(30)] + \
            [ex(f"c{i}", "small", 90 + i) for i in range(10)]
    shots = stratified_shots(train, 10, seed=0, banned={0, 1, 2})
    assert len(shots) == len(set(shots)) == 10 and not {0, 1, 2} & set(shots)
    assert Counter(train[i].label for i in shots) == {"big": 6, "mid": 3, "small": 1}
    assert stratified_shots(train, 10, 0, {0, 1, 2}) == shots  # seeded
    assert stratified_shots(train, 10, 1, {0, 1, 2}) != shots
    # Fewer shots than labels: no label twice; at least as many labels as shots.
    few = stratified_shots(train, 2, 0, set())
    assert len({train[i].label for i in few}) == 2


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from("abcde"), min_size=1, max_size=40), st.integers(0, 12), st.integers(0, 5),
       st.sets(st.integers(0, 39), max_size=10))
def test_stratified_shots_properties(labels, k, seed, banned):
    train = [ex(f"row {i}", lab, i) for i, lab in enumerate(labels)]
    shots = stratified_shots(train, k, seed, banned)
    pool = [i for i in range(len(train)) if i not in banned]
    assert len(shots) == len(set(shots)) == min(k, len(pool))
    assert not set(shots) & banned and all(0 <= i < len(train) for i in shots)
    if k >= len({train[i].label for i in pool}):  # every label present once k allows it
        assert {train[i].label for i in shots} == {train[i].label for i in pool}


def test_retrieval_never_returns_the_row_itself_its_duplicates_or_a_row_containing_it():
    query = "My parcel with the blue kettle never arrived at the Leeds address"
    train = [
        "My parcel with the blue kettle never arrived at the Leeds address",          # 0 the row itself
        "my parcel with the blue kettle never arived at the leeds address!!",          # 1 a near duplicate
        "Hi team. My parcel with the blue kettle never arrived at the Leeds address. Thanks, Sam",  # 2 contains it
        "The parcel with my kettle has not arrived yet",                               # 3 similar, fair game
        "Kettle parcel late, where is it",                                             # 4 similar, fair game
        "I was charged twice for my subscription",                                     # 5 unrelated
        "Please cancel my plan today",                                                 # 6 unrelated
    ]
    banned = duplicates_of([query], train, threshold=0.6)
    assert banned == [{0, 1, 2}]
    got = retrieve([query], train, 2, banned)[0]
    assert got == [4, 3] or got == [3, 4]
    assert not set(got) & {0, 1, 2}
    top = retrieve([query], train, 1, banned)[0]
    assert got[-1] == top[0]  # the most similar comes last, nearest the question
    assert retrieve([query], train, 10, banned)[0][-1] == top[0] and len(retrieve([query], train, 10, banned)[0]) == 4


def test_a_few_shot_prompt_is_the_system_turn_the_examples_then_the_question():
    ctx = Context(pair=None, shape="classification", labels=["a", "b"], train=[], eval=[], prompt_template="T: {text}",
                  system="Be brief.", max_seq_len=64)
    msgs = with_shots(ctx, ex("question", "a", split="eval"), [ex("one", "a"), ex("two", "b")])
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert [m["content"] for m in msgs] == ["Be brief.", "T: one", "a", "T: two", "b", "T: question"]


def test_option_scoring_with_examples_in_the_prompt_starts_at_the_final_answer(tmp_path):
    from transformers import AutoTokenizer

    from harness.model.scoring import option_tokens

    tok = AutoTokenizer.from_pretrained(str(build_tiny_model(tmp_path / "tiny")))
    prompt = [{"role": "user", "content": "one"}, {"role": "assistant", "content": "billing"},
              {"role": "user", "content": "two"}]
    prefix, rests, sup = option_tokens(tok, prompt, ["billing", "delivery"])
    expected = tok(tok.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True),
                   add_special_tokens=False)["input_ids"]
    assert prefix == expected[: len(prefix)] and len(expected) - len(prefix) <= 1  # the example's answer is prompt
    assert all(any(m) for m in sup)


def test_worth_it_sentence_follows_the_interval():
    table = [{"method": "few_shot", "prompt_tokens": 400.0}, {"method": "tuned", "prompt_tokens": 60.0}]
    best = {"method": "few_shot", "base": 0.5, "delta": 0.2, "interval": [0.1, 0.3], "n": 80}
    yes = worth_it(table, best, "accuracy")
    assert yes["beats_best_baseline"] is True and "beats the best prompting baseline" in yes["sentence"]
    assert "60 tuned vs 400 for few-shot" in yes["sentence"]
    no = worth_it(table, {**best, "delta": 0.02, "interval": [-0.05, 0.09]}, "accuracy")
    assert no["beats_best_baseline"] is False and "not shown to be needed" in no["sentence"]
    worse = worth_it(table, {**best, "delta": -0.2, "interval": [-0.3, -0.1]}, "accuracy")
    assert worse["beats_best_baseline"] is False and "worse than the best prompting baseline" in worse["sentence"]


@pytest.fixture(scope="module")
def pair_setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("baselines")
    tiny = str(build_tiny_model(root / "tiny"))
    tr, ev = random_rows(40, 1), random_rows(24, 2)
    tr.append(dict(ev[0]))  # a leaked held-out row: retrieval must not hand it to the model
    train(tiny, tr, None, out=root / "a", epochs=1, lr=1e-3, **FAST)
    train(tiny, tr, None, out=root / "b", epochs=1, lr=3e-3, **FAST)
    return {"root": root, "tiny": tiny, "train": tr, "eval": ev}


def test_baselines_suite_is_paired_with_the_task_base_only_and_cached(pair_setup, tmp_path):
    s = pair_setup
    cache = tmp_path / "cache.sqlite"
    policy = {"suites": {"task": {"params": {"max_items": 20}}}}
    r = compare(s["tiny"], s["root"] / "a", s["train"], s["eval"], suites=["task", "baselines"], policy=policy,
                cache=cache)
    b, task = r["suites"]["baselines"], r["suites"]["task"]["metrics"]["accuracy"]
    assert b["status"] in ("pass", "warn", "fail")
    m = b["metrics"]
    assert set(m) == {"zero_shot.accuracy", "few_shot.accuracy", "retrieval.accuracy", "best.accuracy"}
    assert m["zero_shot.accuracy"]["base"] == task["base"] and m["zero_shot.accuracy"]["tuned"] == task["tuned"]
    for method in ("few_shot", "retrieval"):
        x = m[f"{method}.accuracy"]
        assert x["n"] == task["n"] == 20 and x["tuned"] == task["tuned"] and x["interval"][0] <= x["delta"] <= x["interval"][1]
        assert x["prompt_tokens_base"] > 2 * x["prompt_tokens_tuned"]  # five examples cost tokens
        assert x["delta"] == pytest.approx(x["tuned"] - x["base"])
    best = m["best.accuracy"]
    assert best["base"] == max(m[f"{k}.accuracy"]["base"] for k in ("zero_shot", "few_shot", "retrieval"))
    info = b["info"]
    assert info["excluded_rows_with_duplicates"] >= 1  # the leaked row's copy was kept out of its prompt
    assert [row["method"] for row in info["table"]] == ["zero_shot", "few_shot", "retrieval", "tuned"]
    assert info["worth_it"]["sentence"].startswith("The adapter")
    # Another adapter on the same base: only the task's tuned side is scored again. The baselines are
    # base-only (adapter off) and come from the cache.
    again = compare(s["tiny"], s["root"] / "b", s["train"], s["eval"], suites=["task", "baselines"], policy=policy,
                    cache=cache)
    assert again["cache"]["misses"] == 20
    assert again["suites"]["baselines"]["metrics"]["few_shot.accuracy"]["base"] == m["few_shot.accuracy"]["base"]


def test_baselines_sample_the_task_rows_by_label_and_every_suite_counts_its_items(pair_setup, tmp_path):
    s = pair_setup
    policy = {"suites": {"task": {"params": {"max_items": 20}}, "baselines": {"params": {"max_items": 8}}}}
    r = compare(s["tiny"], s["root"] / "a", s["train"], s["eval"], suites=["task", "baselines"], policy=policy,
                cache=tmp_path / "c.sqlite")
    b, task = r["suites"]["baselines"], r["suites"]["task"]
    assert b["info"]["sampled"]["rows"] == 8 and b["info"]["sampled"]["of"] == 20
    assert "label-stratified" in b["info"]["sampled"]["how"]
    assert all(m["n"] == 8 for m in b["metrics"].values()) and task["metrics"]["accuracy"]["n"] == 20
    assert task["items"] == {"base": 20, "tuned": 20, "joint": 0, "cached": 0}
    # zero-shot and the tuned side come back from the task's scores; few-shot and retrieval are new
    assert b["items"]["base"] == 8 * 3 and b["items"]["cached"] == 8 * 2 and b["items"]["tuned"] == 8
    assert b["seconds"] >= 0 and r["fast"] is False


def test_the_gate_can_require_beating_the_best_baseline(pair_setup, tmp_path):
    s = pair_setup
    policy = {"suites": {"task": {"params": {"max_items": 20}}},
              "gates": {"task.accuracy": None, "baselines.best.accuracy": {"field": "lower", "above": 0.0}}}
    r = compare(s["tiny"], s["root"] / "a", s["train"], s["eval"], suites=["task", "baselines"], policy=policy,
                cache=tmp_path / "c.sqlite")
    best = r["suites"]["baselines"]["metrics"]["best.accuracy"]
    assert best["interval"][0] <= 0  # a barely trained tiny adapter does not beat prompting
    assert best["status"] == "fail" and r["verdict"] == "fail"
