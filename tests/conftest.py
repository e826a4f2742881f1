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
