import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def voice_assistant_rows(seed: int) -> list[dict]:
    """120 templated voice-assistant requests (weather, play_music, timer), then one weather request
    labelled timer: a label flip whose weather rows are reworded copies of it (label_errors tests)."""
    import random

    rnd = random.Random(seed)
    topics = {"weather": ["what is the weather in {c}", "will it rain in {c} today", "is it sunny in {c}"],
              "play_music": ["play some {g} music", "put on a {g} playlist", "i want to hear {g} songs"],
              "timer": ["set a timer for {n} minutes", "start a {n} minute timer", "count down {n} minutes"]}
    cities, genres = ["paris", "tokyo", "lima", "oslo", "cairo", "perth"], ["jazz", "rock", "folk", "soul", "pop"]
    rows = []
    for label, forms in topics.items():
        for _ in range(40):
            rows.append({"text": rnd.choice(forms).format(c=rnd.choice(cities), g=rnd.choice(genres),
                                                          n=rnd.randint(2, 90)), "label": label})
    rows.append({"text": "will it rain in oslo tomorrow", "label": "timer"})
    return rows


def leaky_eval_rows() -> tuple[list[dict], list[dict]]:
    """(train, eval): 60 labelled training rows; an eval set of 15 chat copies of training rows beside 15
    new labelled rows (eval rows of another shape that leak, issue 29)."""
    train = [{"text": f"question {i} about my parcel number {i * 7} that never arrived at the depot",
              "label": ["delivery", "billing"][i % 2]} for i in range(60)]
    ev = [{"messages": [{"role": "user", "content": train[i]["text"]}, {"role": "assistant", "content": train[i]["label"]}]}
          for i in range(15)]
    ev += [{"text": f"completely new question {i} regarding an invoice for plan {i}", "label": "billing"} for i in range(15)]
    return train, ev


@pytest.fixture(scope="session")
def tickets(tmp_path_factory):
    """The planted-defect ticket set, generated fresh (seed 0) with its ground truth."""
    import make_tickets

    out = tmp_path_factory.mktemp("tickets")
    made = make_tickets.make(seed=0)
    make_tickets.write(out, made)
    return out, made["truth"]


@pytest.fixture(scope="session")
def tickets_policy():
    return str(ROOT / "examples" / "tickets" / "policy.yaml")


@pytest.fixture(scope="session")
def ticket_audit(tickets, tickets_policy):
    import harness

    out, truth = tickets
    return harness.audit(str(out / "train.jsonl"), str(out / "eval.jsonl"), tickets_policy), truth


def check(result, name):
    return next(c for c in result["checks"] if c["check"] == name)


@pytest.fixture(scope="session")
def tiny_adapter(tmp_path_factory):
    """A tiny random base and an adapter trained on it for one epoch, for suites that need a pair:
    (base path, adapter path, labelled rows)."""
    from harness import train
    from tiny_model import build_tiny_model

    root = tmp_path_factory.mktemp("tiny_adapter")
    base = str(build_tiny_model(root / "base"))
    rows = [{"text": t, "label": lab} for t, lab in [("where is my parcel", "delivery"), ("i was charged twice", "billing"),
                                                      ("the app crashes on start", "technical_issue"),
                                                      ("please cancel my plan", "cancellation")] * 4]
    train(base, rows, None, out=root / "adapter", epochs=1, lr=1e-3, batch_size=8, max_seq_len=64,
          prompt_template="{text}", lora_r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"])
    return base, root / "adapter", rows
