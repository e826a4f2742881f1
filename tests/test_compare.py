"""`harness compare` on tiny local models: the paired scorer, the cache, the gate's effects, the
artifacts and the errors; and one end-to-end run on the real built-in model."""

import json
import random
import subprocess
import sys
from xml.etree import ElementTree as ET

import pytest

from harness import compare, train
from harness.core.errors import InputError
from harness.testing import check_suite
from tiny_model import build_tiny_model

WORDS = "parcel charge app plan refund login order screen account delivery invoice password box card phone".split()
LABELS = ["billing", "delivery", "technical_issue", "cancellation"]
SMALL = {"suites": {"forgetting": {"params": {"max_items": 10}}, "drift": {"params": {"max_items": 6, "max_new_tokens": 6}},
                    "overfitting": {"params": {"extraction_items": 16}}, "slices": {"params": {"min_n": 5}}}}
# LoRA settings pinned (the trainer's defaults were re-chosen for real models in issue 17; these
# adapters are built to be light, memorising or collapsed on a tiny random model).
FAST = dict(batch_size=8, max_seq_len=64, prompt_template="{text}", lora_r=8, lora_alpha=16,
            target_modules=["q_proj", "v_proj"])


def rows(n, seed):
    r = random.Random(seed)
    return [{"text": " ".join(r.choice(WORDS) for _ in range(5)), "label": r.choice(LABELS)} for _ in range(n)]


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A tiny base; a lightly trained adapter; one that memorised random labels; one that answers
    every prompt with a task label."""
    root = tmp_path_factory.mktemp("compare")
    tiny = str(build_tiny_model(root / "tiny"))
    tr, ev = rows(32, 1), rows(32, 2)
    train(tiny, tr, None, out=root / "light", epochs=1, lr=1e-3, **FAST)
    train(tiny, tr, None, out=root / "over", epochs=40, lr=2e-2, **{**FAST, "lora_r": 16})
    collapse = [{"prompt": f"tell me about {a} and {b}", "completion": "billing"} for a in WORDS for b in WORDS[:4]]
    train(tiny, collapse, None, out=root / "collapsed", epochs=3, lr=1e-2, **FAST)
    return {"root": root, "tiny": tiny, "train": tr, "eval": ev, "collapse": collapse}


def status(results, suite, metric):
    return results["suites"][suite]["metrics"][metric]["status"]


def test_results_junit_and_model_card(made, tmp_path):
    out = tmp_path / "out"
    r = compare(made["tiny"], made["root"] / "light", made["train"], made["eval"], policy=SMALL, out=out, cache="")
    assert r["schema"] == "harness.compare/2" and r["verdict"] in ("pass", "fail")
    assert list(r["suites"]) == ["task", "baselines", "slices", "calibration", "overfitting", "forgetting", "drift"]
    assert all(s["status"] in ("pass", "warn", "fail") for s in r["suites"].values())
    for suite in r["suites"].values():
        for m in suite["metrics"].values():
            assert {"base", "tuned", "delta", "interval", "n", "status"} <= set(m)
    forgetting = r["suites"]["forgetting"]["metrics"]
    assert {"knowledge.accuracy", "arithmetic.accuracy", "commonsense.accuracy", "reading.accuracy",
            "instructions.accuracy"} <= set(forgetting)
    assert all("p_holm" in m and m["n"] == 10 for k, m in forgetting.items() if not k.startswith("all."))
    assert forgetting["all.accuracy"]["n"] == 50 and "p_holm" not in forgetting["all.accuracy"]
    assert forgetting["all.accuracy"]["status"] in ("pass", "fail")  # gated by its own exact rule
    assert json.loads((out / "results.json").read_text()) == r
    root = ET.parse(out / "junit.xml").getroot()
    gated = [(s, m) for s, suite in r["suites"].items() for m, v in suite["metrics"].items() if v["status"] != "info"]
    assert int(root.get("tests")) == len(gated) == len(root.findall(".//testcase"))
    assert int(root.get("failures")) == sum(r["suites"][s]["metrics"][m]["status"] == "fail" for s, m in gated)
    card = (made["root"] / "light" / "README.md").read_text()
    assert "_Filled in by the regression suites._" not in card and "| task.accuracy |" in card
    assert card.index("## Results") > card.index("## Known limitations")


def test_both_sides_equal_separately_loaded_models(made):
    """The adapter toggle gives exactly the base, and the attached adapter exactly a fresh PeftModel."""
    from peft import PeftModel

    from harness.model.loading import load_base
    from harness.comparing.paired import Pair
    from harness.model.scoring import score_items

    pair = Pair(made["tiny"], made["root"] / "over", cache="")
    items = [([5, 6, 7, 8], [[9], [10, 11]], None), ([5, 6, 12], [[13, 14], [9]], None)]
    got = pair.both("test:1", "scores", items, [[p, r] for p, r, _ in items], lambda m, its: score_items(m, its, 3))
    flat = lambda rows: [x for row in rows for x in row]  # noqa: E731
    plain = load_base(made["tiny"]).model
    assert flat(got["base"]) == pytest.approx(flat(score_items(plain, items, 3)), abs=1e-5)
    tuned = PeftModel.from_pretrained(load_base(made["tiny"]).model, str(made["root"] / "over")).eval()
    assert flat(got["tuned"]) == pytest.approx(flat(score_items(tuned, items, 3)), abs=1e-5)
    assert flat(got["base"]) != pytest.approx(flat(got["tuned"]), abs=1e-3)


def test_a_rerun_recomputes_only_what_changed(made, tmp_path):
    cache = tmp_path / "cache.sqlite"
    args = (made["tiny"], made["root"] / "light", made["train"], made["eval"])
    first = compare(*args, policy=SMALL, cache=cache)
    again = compare(*args, policy=SMALL, cache=cache)
    # Within one run, baselines, slices, calibration and overfitting (its held-out rows) read the task
    # suite's scores back (both sides, every held-out row).
    assert first["cache"]["hits"] == 4 * 2 * len(made["eval"]) and again["cache"]["misses"] == 0
    assert again["suites"]["task"]["metrics"] == first["suites"]["task"]["metrics"]
    other = compare(made["tiny"], made["root"] / "over", made["train"], made["eval"], policy=SMALL, cache=cache)
    # A new adapter: the base side comes from the cache, the tuned side is scored afresh.
    assert other["cache"]["hits"] > 0 and other["cache"]["misses"] > 0
    assert other["cache"]["hits"] + other["cache"]["misses"] == first["cache"]["misses"] + first["cache"]["hits"]


def test_overtrained_adapter_fails_on_memorisation(made):
    r = compare(made["tiny"], made["root"] / "over", made["train"], made["eval"], policy=SMALL, cache="",
                suites=["overfitting"])
    auc = r["suites"]["overfitting"]["metrics"]["membership_auc"]
    assert auc["tuned"] > 0.6 and auc["status"] == "fail" and r["verdict"] == "fail"
    light = compare(made["tiny"], made["root"] / "light", made["train"], made["eval"], policy=SMALL, cache="",
                    suites=["overfitting"])
    assert status(light, "overfitting", "membership_auc") == "pass"


def test_label_answering_adapter_fails_on_drift(made):
    r = compare(made["tiny"], made["root"] / "collapsed", made["collapse"], made["collapse"][:10], policy=SMALL,
                cache="", suites=["drift"])
    col = r["suites"]["drift"]["metrics"]["collapse_rate"]
    assert col["base"] == 0.0 and col["tuned"] > 0.5 and col["status"] == "fail" and r["verdict"] == "fail"
    assert r["suites"]["drift"]["rows"][0]["collapsed"] is True


def test_eval_in_its_own_shape_and_collapse_without_training_rows(made):
    """A prompt/completion adapter judged on an eval file in the classification shape, without --train:
    the rows are read in their own shape and mapped (text as the question, label as the expected reply),
    and collapse is measured on the task outputs the adapter's manifest recorded."""
    ev = [{"text": f"tell me about {w}", "label": "billing"} for w in WORDS[:8]]
    r = compare(made["tiny"], made["root"] / "collapsed", None, ev, policy=SMALL, cache="", suites=["task", "drift"])
    info = r["data"]["eval"]
    assert info["shape"] == "classification" and info["mapped"]["mapped_to"] == "instruction"
    assert info["mapped"]["rows"] == 8 and r["suites"]["task"]["metrics"]["exact_match"]["n"] == 8
    drift = r["suites"]["drift"]
    assert drift["info"]["task_vocabulary_from"] == "the adapter's manifest" and drift["info"]["task_vocabulary"] == ["billing"]
    assert drift["metrics"]["collapse_rate"]["tuned"] > 0.5 and drift["metrics"]["collapse_rate"]["status"] == "fail"


def test_a_crashing_suite_is_an_error_and_the_rest_still_run(made, monkeypatch):
    from harness.suites.drift import DriftSuite

    def boom(self, ctx, params):
        raise RuntimeError("probe file vanished")

    monkeypatch.setattr(DriftSuite, "run", boom)
    r = compare(made["tiny"], made["root"] / "light", made["train"], made["eval"], policy=SMALL, cache="",
                suites=["task", "drift"])
    assert r["suites"]["drift"]["status"] == "error" and "probe file vanished" in r["suites"]["drift"]["error"]
    assert r["suites"]["task"]["status"] in ("pass", "warn", "fail") and r["verdict"] == "fail"


def test_mismatched_base_is_refused(made, tmp_path):
    other = str(build_tiny_model(tmp_path / "other", seed=1))
    with pytest.raises(InputError, match="adapter was trained on base .*compare it with its own base"):
        compare(other, made["root"] / "light", made["train"], made["eval"], cache="")


def test_cli_exit_codes_and_one_line_errors(made, tmp_path):
    from conftest import write_jsonl

    tr, ev = write_jsonl(tmp_path / "t.jsonl", made["train"]), write_jsonl(tmp_path / "e.jsonl", made["eval"])
    policy = tmp_path / "gate.yaml"
    policy.write_text("gates:\n  task.accuracy: null\n")
    base = [sys.executable, "-m", "harness", "compare", "--base", made["tiny"], "--train", str(tr), "--eval", str(ev),
            "--no-cache", "--suites", "task"]
    ok = subprocess.run(base + ["--adapter", str(made["root"] / "light"), "--out", str(tmp_path / "a"), "--policy",
                                str(policy)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr[-1500:]
    assert "task.accuracy" in ok.stdout and "verdict: PASS" in ok.stdout
    failed = subprocess.run(base + ["--adapter", str(made["root"] / "light"), "--out", str(tmp_path / "b")],
                            capture_output=True, text=True)
    assert failed.returncode == 1 and "verdict: FAIL" in failed.stdout  # no task gain: the interval is not above 0
    bad = subprocess.run(base + ["--adapter", str(tmp_path / "nope"), "--out", str(tmp_path / "c")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and "no such adapter directory" in bad.stderr
    typo = subprocess.run(base[:-1] + ["tsak", "--adapter", str(made["root"] / "light"), "--out", str(tmp_path / "d")],
                          capture_output=True, text=True)
    assert typo.returncode == 2 and "did you mean 'task'" in typo.stderr


def test_builtin_model_generative_extraction_end_to_end(tmp_path):
    """The real SmolLM2-135M-Instruct on the shipped extraction example (chat rows, JSON answers): a
    briefly trained adapter, the task suite on a few held-out rows (CI runs this): the task is read as
    JSON, and validity, schema match and field F1 are paired on every row."""
    from conftest import ROOT

    shipped = ROOT / "examples" / "orders"
    read = lambda name, n: [json.loads(x) for x in (shipped / name).read_text().splitlines()[:n]]  # noqa: E731
    train("smollm2-135m-instruct", read("train_chat.jsonl", 16), None, out=tmp_path / "adapter", max_steps=2,
          batch_size=8, lr=1e-3, max_seq_len=192)
    policy = {"suites": {"task": {"params": {"max_items": 4, "max_new_tokens": 72}}}}
    r = compare("smollm2-135m-instruct", tmp_path / "adapter", None, read("eval_chat.jsonl", 4), policy=policy,
                suites=["task"], cache=tmp_path / "cache.sqlite")
    task = r["suites"]["task"]
    assert task["status"] in ("pass", "warn", "fail") and task["info"]["output_kind"] == "json"
    assert all(task["metrics"][k]["n"] == 4 for k in ("json_validity", "schema_match", "field_f1", "exact_match"))
    assert r["task_rules"] == {"output_kind": "json", "rules": ["task.field_f1", "task.json_validity", "task.schema_match"]}
    # Both sides answer every row (the base in prose, as measured in bench/RESULTS_generative.md).
    assert len(task["info"]["row_scores"]["base"]) == len(task["info"]["row_scores"]["tuned"]) == 4


def test_builtin_model_compare_end_to_end(tmp_path):
    """The real SmolLM2-135M-Instruct with a briefly trained adapter, every suite on a few items (CI runs
    this): the probes score clearly above chance on the real model and every figure is paired."""
    data = [{"text": t, "label": lab} for t, lab in [
        ("where is my parcel", "delivery"), ("i was charged twice", "billing"),
        ("the app crashes on start", "technical_issue"), ("please cancel my plan", "cancellation")] * 4]
    data += [{"text": t, "label": lab} for t, lab in [
        ("my invoice shows the wrong amount", "billing"), ("the courier left my box at the wrong door", "delivery"),
        ("login fails with an error code", "technical_issue"), ("stop my subscription at the end of the month", "cancellation"),
        ("refund the second charge please", "billing"), ("tracking has not updated for a week", "delivery")]]
    train("smollm2-135m-instruct", data, None, out=tmp_path / "adapter", max_steps=2, batch_size=8, lr=1e-3,
          max_seq_len=96, prompt_template="Ticket: {text}\nCategory?")
    policy = {"suites": {"task": {"params": {"max_items": 8}}, "overfitting": {"params": {"max_items": 8, "extraction_items": 4}},
                         "forgetting": {"params": {"max_items": 24, "probes": ["knowledge"]}},
                         "drift": {"params": {"max_items": 4, "max_new_tokens": 8}}, "slices": {"params": {"min_n": 2}}}}
    r = compare("smollm2-135m-instruct", tmp_path / "adapter", data, data[:8], policy=policy, out=tmp_path / "out",
                cache=tmp_path / "cache.sqlite")
    assert all(s["status"] in ("pass", "warn", "fail") for s in r["suites"].values()), {k: s.get("error") for k, s in r["suites"].items()}
    know = r["suites"]["forgetting"]["metrics"]["knowledge.accuracy"]
    assert know["n"] == 24 and know["base"] > know["chance"] + 0.3
    assert r["base"]["source"] == "builtin" and r["suites"]["drift"]["metrics"]["kl"]["tuned"] >= 0
    assert (tmp_path / "out" / "junit.xml").is_file()
    # Baselines on the real model and chat template: every held-out row here is copied in train, so
    # retrieval must skip all four copies of each (and so must the fixed examples, drawn from the six rows
    # left); five examples make the prompt several times longer.
    b = r["suites"]["baselines"]
    assert b["info"]["excluded_rows_with_duplicates"] == 8 and b["info"]["excluded_duplicates"] == 32
    assert len(b["info"]["few_shot_lines"]) == 5 and min(b["info"]["few_shot_lines"]) > 16
    few = b["metrics"]["few_shot.accuracy"]
    assert few["n"] == 8 and few["prompt_tokens_base"] > 3 * few["prompt_tokens_tuned"]
    assert "prompting baseline" in b["info"]["worth_it"]["sentence"]
    assert set(r["suites"]["slices"]["metrics"]) >= {"label=billing.accuracy", "worst.accuracy"}
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Was fine-tuning worth it?" in page and "prompt tokens per request" in page


def test_probe_and_prompt_sets_are_regenerated_byte_identical(tmp_path, monkeypatch):
    """The shipped JSONL files are exactly what the generators write, and every set is big enough."""
    import importlib.util
    from pathlib import Path

    from harness.suites.forgetting import probe_sets, read_probe_set

    root = Path(__file__).resolve().parents[1] / "suites"
    for sub, script in (("probes", "make_probes.py"), ("prompts", "make_prompts.py")):
        spec = importlib.util.spec_from_file_location(script[:-3], root / sub / script)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        monkeypatch.setattr(mod, "HERE", tmp_path / sub, raising=True)
        (tmp_path / sub).mkdir()
        mod.main()
        for made in (tmp_path / sub).glob("*.jsonl"):
            assert made.read_bytes() == (root / sub / made.name).read_bytes(), made.name
    sets = probe_sets()
    assert set(sets) == {"knowledge", "arithmetic", "commonsense", "reading", "instructions"}
    assert all(len(read_probe_set(p)) >= 100 for p in sets.values())


def test_bad_probe_file_names_file_and_line(tmp_path):
    from harness.suites.forgetting import read_probe_set

    bad = tmp_path / "mine.jsonl"
    bad.write_text('{"context": "2+2=", "choices": ["4", "5"], "answer": 0}\n{"context": "x", "choices": ["a"], "answer": 0}\n')
    with pytest.raises(InputError, match=r"mine.jsonl:2: a probe item needs"):
        read_probe_set(bad)


def test_every_registered_suite_keeps_the_contract(made):
    """scikit-learn style: every suite is named, explained, versioned, in the run order and the default
    gate policy, returns JSON-able plain data, and reports only metrics it declares, each paired."""
    from harness import suites
    from harness.comparing.gate import load_gate

    gate = load_gate(None)
    assert suites.REGISTRY.names() == ["task", "baselines", "slices", "calibration", "overfitting", "forgetting", "drift"]
    assert set(suites.REGISTRY) == set(gate["suites"])
    r = compare(made["tiny"], made["root"] / "light", made["train"], made["eval"], policy=SMALL, cache="")
    json.dumps(r, allow_nan=False)
    for name in suites.REGISTRY:
        check_suite(name, r)  # the contract exported for plug-in authors (harness.testing)
        assert r["suites"][name]["key_figures"] == list(suites.REGISTRY[name].key_figures)
    with pytest.raises(AssertionError, match="is not declared"):  # the contract can fail
        broken = json.loads(json.dumps(r))
        broken["suites"]["task"]["metrics"]["made_up"] = broken["suites"]["task"]["metrics"]["accuracy"]
        check_suite("task", broken)


def test_generative_task_with_json_outputs_and_user_probes_and_prompts(made, tmp_path):
    """Instruction rows whose completions are JSON: exact match, JSON validity and field F1; a user's
    probe set and prompt file join the shipped ones."""
    from conftest import write_jsonl

    rows = [{"prompt": f"extract the order from: order {i} for {w}", "completion": json.dumps({"order": i, "item": w})}
            for i, w in enumerate(WORDS)]
    probes = write_jsonl(tmp_path / "mine.jsonl", [{"context": f"{a} plus {b} is", "choices": [str(a + b), str(a + b + 1)],
                                                    "answer": 0} for a in range(3) for b in range(3)])
    prompts = write_jsonl(tmp_path / "ours.jsonl", [{"prompt": "What is our refund policy?"}])
    policy = {"suites": {"forgetting": {"params": {"probes": ["mine"]}}, "drift": {"params": {"max_items": 3, "max_new_tokens": 4}}}}
    r = compare(made["tiny"], made["root"] / "collapsed", rows, rows[:6], probes=[probes], prompts=[prompts],
                policy=policy, cache="", suites=["task", "forgetting", "drift"])
    task = r["suites"]["task"]
    assert task["status"] in ("pass", "warn", "fail") and {"exact_match", "json_validity", "field_f1"} <= set(task["metrics"])
    assert task["metrics"]["exact_match"]["n"] == 6 and task["info"]["evaluate"]["json_validity"]["tuned"]
    assert set(r["suites"]["forgetting"]["metrics"]) == {"mine.accuracy", "mine.accuracy_norm"}
    drift = r["suites"]["drift"]
    assert drift["info"]["user_prompts"] == 1 and drift["info"]["prompts"]["general"] == 4
    assert "What is our refund policy?" in [row["prompt"] for row in drift["rows"]]


def test_a_gate_without_held_out_rows_fails_instead_of_passing(made, tmp_path):
    r = compare(made["tiny"], made["root"] / "light", made["train"], None, out=tmp_path / "o", cache="",
                suites=["task", "drift"], policy=SMALL)
    assert r["suites"]["task"]["status"] == "skipped" and r["verdict"] == "fail"
    assert "give --eval" in r["gate_reasons"][0]
    root = ET.parse(tmp_path / "o" / "junit.xml").getroot()
    assert root.find(".//testsuite[@name='gate']/testcase/failure") is not None


def test_free_text_task_is_measured_and_gated_on_chrf_not_exact_match(made, tmp_path):
    """Reply-style rows: chrF, ROUGE-L, length ratio and format match (and semantic similarity with
    the `meaning` extra), paired; the gate's task rules are the free-text ones; the listed rows show
    prompt, reference and both answers side by side."""
    rows = [{"prompt": f"customer <b>{w}</b> asks where the parcel is", "completion": f"Hello {w}, your parcel is on its way and arrives soon."}
            for w in WORDS]
    policy = {"suites": {"baselines": {"params": {"k": 2}},
                         "slices": {"params": {"min_n": 2, "slices": [{"name": "parcel", "regex": "parcel"}]}},
                         "overfitting": {"params": {"max_items": 6, "extraction_items": 6}}}}
    r = compare(made["tiny"], made["root"] / "collapsed", rows, rows[:6], cache="",
                suites=["task", "baselines", "slices", "overfitting"], out=tmp_path / "o", policy=policy)
    task = r["suites"]["task"]
    assert task["info"]["output_kind"] == "free_text" and task["info"]["headline"] == "chrf"
    assert {"exact_match", "chrf", "rouge_l", "length_ratio", "format_match"} <= set(task["metrics"])
    assert all(task["metrics"][k]["n"] == 6 for k in ("chrf", "rouge_l", "length_ratio"))
    assert ("semantic_similarity" in task["metrics"]) != ("semantic_similarity" in task["info"]["not_measured"])
    assert r["task_rules"]["output_kind"] == "free_text" and "task.chrf" in r["task_rules"]["rules"]
    assert task["metrics"]["exact_match"]["status"] == "info" and task["metrics"]["chrf"]["status"] in ("pass", "fail")
    assert task["rows"], "a random tiny model moves chrF on some row"
    # The prompting baselines are judged on the same headline figure, chrF (row scores: no McNemar p).
    b = r["suites"]["baselines"]
    assert b["info"]["metric"] == "chrf" and b["metrics"]["best.chrf"]["n"] == 6 and b["metrics"]["best.chrf"]["p"] is None
    for row in task["rows"]:
        assert {"prompt", "reference", "base", "tuned", "change"} <= set(row)
    # Slices and the overfitting gap judge the rows by chrF too, not by exact match.
    sl = r["suites"]["slices"]
    assert sl["info"]["metric"] == "chrf" and "parcel.chrf" in sl["metrics"] and "worst.chrf" in sl["metrics"]
    assert sl["info"]["overall"]["base"] == pytest.approx(task["metrics"]["chrf"]["base"])
    gap = r["suites"]["overfitting"]["metrics"]["score_gap"]
    assert gap["score"] == "chrf" and gap["n"] == [6, 6] and 0 <= gap["train_score"] <= 1
    page = (tmp_path / "o" / "report.html").read_text()
    assert "Answers side by side" in page and "&lt;b&gt;parcel&lt;/b&gt;" in page and "<b>parcel</b>" not in page
