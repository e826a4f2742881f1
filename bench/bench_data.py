"""Large, diverse short-row data for the audit benchmark, with planted near duplicates and leaks.

The ticket generator in examples/ is template-based: at 200k rows its templates repeat so often that
most rows become near duplicates of each other, which no real inbox looks like. Here each row is an
intent sentence from the ticket templates followed by 12-22 words from a word-bigram chain trained on
the docstrings of Python's standard library (always on disk, so no download), giving ~25-word rows
that are distinct like real messages. Planted in train: exact copies, near copies (a typo, a greeting
or a signature), eval rows leaked (exact and near), label flips.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import make_tickets as mt  # noqa: E402

_WORD = re.compile(r"[A-Za-z][a-z']+|[0-9]+")


def corpus_words() -> list[str]:
    words: list[str] = []
    for mod in sorted(m.name for m in pkgutil.iter_modules() if m.module_finder.path.endswith("python3.11")
                      and not m.name.startswith("_"))[:200]:
        try:
            module = importlib.import_module(mod)
        except Exception:  # noqa: BLE001 - some stdlib modules need a display or a platform
            continue
        for obj in [module, *vars(module).values()]:
            doc = getattr(obj, "__doc__", None)
            if isinstance(doc, str):
                words += [w.lower() for w in _WORD.findall(doc)]
        if len(words) > 400_000:
            break
    return words


class Chain:
    def __init__(self, words: list[str]):
        self.next: dict[str, list[str]] = {}
        for a, b in zip(words, words[1:]):
            self.next.setdefault(a, []).append(b)
        self.starts = [w for w in self.next if len(self.next[w]) > 3]

    def sentence(self, rnd: random.Random, n: int) -> str:
        w = rnd.choice(self.starts)
        out = [w]
        for _ in range(n - 1):
            w = rnd.choice(self.next.get(w) or self.starts)
            out.append(w)
        return " ".join(out)


def make(train_rows: int, eval_rows: int, seed: int = 0) -> dict:
    rnd = random.Random(seed)
    chain = Chain(corpus_words())

    def row() -> dict:
        label = rnd.choice(mt.LABELS)
        intro = mt._fill(rnd.choice(mt.INTENTS[label][0]), rnd)
        text = intro[0].upper() + intro[1:] + " " + chain.sentence(rnd, rnd.randint(12, 22)) + "."
        return {"text": text, "label": label}

    n_near, n_exact, n_leak, n_flip = train_rows // 20, train_rows // 33, eval_rows // 50, train_rows // 100
    base = [row() for _ in range(train_rows - n_near - n_exact - n_leak)]
    eval_ = [row() for _ in range(eval_rows)]
    extra, truth = [], {"near_duplicates": [], "exact_duplicates": [], "leaks": [], "label_flips": []}
    sources = rnd.sample(range(len(base)), n_near + n_exact + n_flip)
    for k, src in enumerate(sources[:n_near]):
        text = base[src]["text"]
        op = k % 3
        new = (mt.typo(text, rnd) if op == 0 else rnd.choice(mt.GREETINGS) + ", " + text if op == 1
               else text + " " + rnd.choice(mt.SIGNOFFS) + ", " + rnd.choice(mt.NAMES))
        extra.append(({"text": new, "label": base[src]["label"]}, "near_duplicates", src))
    for src in sources[n_near:n_near + n_exact]:
        extra.append(({"text": "  " + base[src]["text"].lower(), "label": base[src]["label"]}, "exact_duplicates", src))
    for src in sources[n_near + n_exact:]:
        base[src]["label"] = rnd.choice([x for x in mt.LABELS if x != base[src]["label"]])
        truth["label_flips"].append(src + 1)
    for k, e in enumerate(rnd.sample(range(len(eval_)), n_leak)):
        text = eval_[e]["text"]
        extra.append(({"text": text if k % 2 else mt.typo(text, rnd), "label": eval_[e]["label"]}, "leaks", e))
    train = list(base)
    for r, kind, src in extra:  # appended after the base rows: line numbers stay simple
        train.append(r)
        pair = [src + 1, len(train)]
        truth[kind].append(pair if kind != "leaks" else {"eval_line": src + 1, "train_line": len(train)})
    return {"train": train, "eval": eval_, "truth": truth}


def write(out: Path, made: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name in ("train", "eval"):
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as fh:
            for r in made[name]:
                fh.write(json.dumps(r) + "\n")
    (out / "truth.json").write_text(json.dumps(made["truth"]))


if __name__ == "__main__":
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    write(Path(sys.argv[1]), make(n, 5000))
