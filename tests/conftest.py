import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


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
