"""Generate a structured-extraction set (customer messages -> a JSON object) with planted defects and
their ground truth.

The messages read like a real order-support inbox: greetings and sign-offs, typos, facts in any order,
order numbers written several ways, amounts with symbols or codes, dates as "March 3", "03/03/2026" or
"the 3rd". Each answer is the JSON a support tool would store:

    {"order_id": "A12-3456", "product": "Orbit earbuds", "issue_type": "damaged",
     "amount": 49.99, "currency": "EUR", "date": "2026-03-03"}

with null for a fact the message does not give. Natural rows are distinct (character 5-gram Jaccard
below 0.45 between messages), so every defect found is one planted here and the ground truth is exact.

Planted in train, each on its own rows (truth.json names their lines):
- format drift: key names renamed (orderId, Product, issueType), answers in prose instead of JSON,
  dates as 03/03/2026 instead of ISO, amounts as strings ("49.99");
- unsupported values: an order id, an amount, a product or a date in the answer that the message does
  not contain (the data would teach the model to invent);
- truncated answers (JSON cut off mid-object) and empty answers;
- boilerplate: "As an AI language model" before the JSON, refusals, one annotator's signature line
  pasted under every answer of theirs;
- the same message twice with materially different answers (conflicts);
- eval rows leaked into train (verbatim and lightly edited).

    python examples/make_orders.py --out examples/orders

Writes train.jsonl and eval.jsonl ({"prompt", "completion"}), train_chat.jsonl, eval_chat.jsonl and
truth.json.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

SYSTEM_PROMPT = ("Extract the order details from the customer's message as JSON with the keys order_id, product, "
                 "issue_type, amount, currency and date (YYYY-MM-DD); use null for anything the message does not say.")
KEYS = ["order_id", "product", "issue_type", "amount", "currency", "date"]
ISSUES = ["damaged", "missing_item", "late_delivery", "wrong_item", "refund_request", "double_charge", "cancellation"]
PRODUCTS = ["Orbit earbuds", "Lumen smart bulb", "Pulse fitness watch", "Vega 27in monitor", "Kestrel e-bike",
            "Aster coffee grinder", "Halo doorbell cam", "Tern travel backpack", "Quill tablet", "Sable office chair",
            "Pico label printer", "Fjord water bottle", "Cobalt gaming mouse", "Acme Router X2", "Nimbus desk lamp",
            "Wren kettle", "Atlas hiking boots", "Mira yoga mat", "Juniper bed sheets", "Echo bluetooth speaker"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
GREETINGS = ["Hi", "Hello", "Hey", "Hi there", "Good morning", "Dear support", "Hello team", "Hiya", "Good afternoon"]
SIGNOFFS = ["Thanks", "Thank you", "Cheers", "Regards", "Best", "Many thanks", "Kind regards", "Thx"]
NAMES = ["Maria", "Tom", "Priya", "Jonas", "Aiko", "Sam", "Fatima", "Lukas", "Chen", "Olivia", "Diego", "Noah"]
CURRENCY = {"EUR": ["€{a}", "{a} EUR", "{a} euros", "EUR {a}"], "USD": ["${a}", "{a} USD", "{a} dollars", "US${a}"],
            "GBP": ["£{a}", "{a} GBP", "{a} pounds", "GBP {a}"]}

# What happened, per issue type: several wordings each, {product} where the product is named.
ISSUE_TEXT = {
    "damaged": ["the {product} arrived broken", "my {product} came with a cracked casing",
                "the box was crushed and the {product} inside is damaged", "the {product} was scratched all over when I opened it",
                "one corner of the {product} is dented"],
    "missing_item": ["the {product} was missing from the parcel", "I only got the charger, no {product}",
                     "the package arrived but the {product} wasn't in it", "half of my order is missing, the {product} never came"],
    "late_delivery": ["my {product} still hasn't arrived", "the {product} was supposed to be here last week",
                      "tracking for the {product} hasn't moved in days", "the {product} is way past the promised delivery date"],
    "wrong_item": ["you sent me the wrong {product}", "I ordered the {product} but got something else entirely",
                   "the {product} I received is the wrong colour and size", "this isn't the {product} I picked"],
    "refund_request": ["I'd like my money back for the {product}", "please refund the {product}, I don't want it anymore",
                       "I returned the {product} two weeks ago and still no refund", "can I get a refund on the {product}"],
    "double_charge": ["I was charged twice for the {product}", "my card shows two payments for the {product}",
                      "you billed me two times for one {product}", "the {product} appears twice on my statement"],
    "cancellation": ["please cancel my order for the {product}", "I want to cancel the {product} before it ships",
                     "cancel the {product} please, I ordered it by mistake", "I no longer need the {product}, cancel it"],
}
ORDER_TEXT = ["order {oid}", "order #{oid}", "order number {oid}", "my order ({oid})", "ref {oid}", "order no. {oid}"]
DATE_TEXT = ["I ordered it on {date}", "placed on {date}", "bought on {date}", "the order is from {date}",
             "purchased {date}", "it shipped on {date}"]
AMOUNT_TEXT = ["I paid {amt}", "it cost {amt}", "that's {amt} I want back", "the charge was {amt}",
               "{amt} was taken from my card", "total was {amt}"]
REQUESTS = ["Please sort this out.", "What can you do?", "I need this fixed asap.", "Please advise.",
            "Can someone get back to me?", "I'd appreciate a quick reply.", "Let me know the next steps.", ""]


def _order_id(rnd: random.Random) -> str:
    kind = rnd.random()
    if kind < 0.5:
        return f"{rnd.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rnd.randint(10, 99)}-{rnd.randint(1000, 9999)}"
    if kind < 0.8:
        return str(rnd.randint(1000000, 9999999))
    return f"ORD-{rnd.randint(100000, 999999)}"


def _date(rnd: random.Random) -> tuple[str, str]:
    """(ISO date, how the customer writes it)."""
    month, day = rnd.randint(1, 12), rnd.randint(1, 28)
    iso = f"2026-{month:02d}-{day:02d}"
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    forms = [f"{MONTHS[month - 1]} {day}", f"{day} {MONTHS[month - 1]}", f"{MONTHS[month - 1][:3]} {day}{suffix}",
             f"the {day}{suffix} of {MONTHS[month - 1]}", iso, f"{MONTHS[month - 1]} {day}, 2026"]
    return iso, rnd.choice(forms)


def _amount(rnd: random.Random) -> tuple[float, str, str]:
    value = round(rnd.choice([rnd.randint(5, 90) + rnd.choice([0, 0.5, 0.99, 0.49]), rnd.randint(100, 1500) + 0.0]), 2)
    currency = rnd.choice(list(CURRENCY))
    text = f"{value:,.2f}" if rnd.random() < 0.6 or value != int(value) else str(int(value))
    return value, currency, rnd.choice(CURRENCY[currency]).format(a=text)


def typo(text: str, rnd: random.Random) -> str:
    words = text.split(" ")
    cand = [i for i, w in enumerate(words) if w.isalpha() and len(w) > 4]
    if not cand:
        return text
    i = rnd.choice(cand)
    w = words[i]
    j = rnd.randrange(1, len(w) - 1)
    words[i] = w[:j] + w[j + 1] + w[j] + w[j + 2:]
    return " ".join(words)


def natural_row(rnd: random.Random) -> tuple[str, dict]:
    """One message and its answer (every value in the answer is in the message, or null)."""
    issue = rnd.choice(ISSUES)
    product = rnd.choice(PRODUCTS)
    answer = dict.fromkeys(KEYS)
    answer["issue_type"] = issue
    shown = product if rnd.random() < 0.6 else product.lower()
    answer["product"] = product
    clauses = [rnd.choice(ISSUE_TEXT[issue]).format(product=shown)]
    if rnd.random() < 0.8:
        oid = _order_id(rnd)
        answer["order_id"] = oid
        clauses.append(rnd.choice(ORDER_TEXT).format(oid=oid))
    if rnd.random() < 0.7:
        iso, said = _date(rnd)
        answer["date"] = iso
        clauses.append(rnd.choice(DATE_TEXT).format(date=said))
    if rnd.random() < 0.65 or issue in ("double_charge", "refund_request"):
        value, currency, said = _amount(rnd)
        answer["amount"], answer["currency"] = value, currency
        clauses.append(rnd.choice(AMOUNT_TEXT).format(amt=said))
    first, rest = clauses[0], clauses[1:]
    rnd.shuffle(rest)
    body = first[0].upper() + first[1:]
    for c in rest:
        body += rnd.choice([", ", " - ", ". ", " and "]) + c if rnd.random() < 0.7 else ". " + c[0].upper() + c[1:]
    body += "."
    request = rnd.choice(REQUESTS)
    parts = []
    if rnd.random() < 0.6:
        parts.append(rnd.choice(GREETINGS) + ("," if rnd.random() < 0.5 else ""))
    parts.append(body)
    if request:
        parts.append(request)
    if rnd.random() < 0.5:
        parts.append(rnd.choice(SIGNOFFS) + ", " + rnd.choice(NAMES))
    text = " ".join(parts)
    if rnd.random() < 0.25:
        text = typo(text, rnd)
    return text, answer


def as_json(answer: dict) -> str:
    return json.dumps(answer, ensure_ascii=False)


def _shingles(text: str, n: int = 5) -> frozenset:
    t = " ".join(text.lower().split())
    return frozenset(t[i:i + n] for i in range(max(1, len(t) - n + 1)))


def make(seed: int = 0, train_rows: int = 600, eval_rows: int = 150) -> dict:
    rnd = random.Random(seed)
    natural: list[tuple[str, dict]] = []
    kept: list[frozenset] = []
    attempts = 0
    while len(natural) < train_rows + eval_rows:
        attempts += 1
        text, answer = natural_row(rnd)
        sh = _shingles(text)
        if any(len(sh & o) / len(sh | o) >= 0.45 for o in kept):
            if attempts > 100 * (train_rows + eval_rows):
                raise RuntimeError("cannot generate enough distinct messages")
            continue
        kept.append(sh)
        natural.append((text, answer))
    train = [{"prompt": t, "completion": as_json(a), "_answer": a} for t, a in natural[:train_rows]]
    eval_ = [{"prompt": t, "completion": as_json(a)} for t, a in natural[train_rows:]]
    truth: dict = {"format_drift": [], "unsupported": [], "truncated": [], "empty": [], "boilerplate": [],
                   "conflicts": [], "leaks": [], "labels": {"issue_type": ISSUES}, "seed": seed}
    pool = list(range(len(train)))
    rnd.shuffle(pool)
    take = lambda k: [pool.pop() for _ in range(k)]  # noqa: E731

    # Format drift: renamed keys, prose answers, other date formats, amounts as strings.
    renames = {"order_id": "orderId", "product": "Product", "issue_type": "issueType"}
    for i in take(8):
        a = train[i]["_answer"]
        old = rnd.choice([k for k in renames if a[k] is not None])
        train[i]["completion"] = as_json({renames[k] if k == old else k: v for k, v in a.items()})
        truth["format_drift"].append({"row": i, "kind": "key_renamed", "key": old})
    for i in take(8):
        a = train[i]["_answer"]
        said = [f"This is about order {a['order_id']}" if a["order_id"] else "No order number was given",
                f"the customer reports {a['issue_type'].replace('_', ' ')} for the {a['product']}"]
        if a["amount"] is not None:
            said.append(f"amount {a['amount']} {a['currency']}")
        train[i]["completion"] = ", ".join(said) + "."
        truth["format_drift"].append({"row": i, "kind": "prose"})
    for i in take(8):
        a = dict(train[i]["_answer"])
        if a["date"] is None:
            continue
        y, m, d = a["date"].split("-")
        a["date"] = f"{m}/{d}/{y}"
        train[i]["completion"] = as_json(a)
        truth["format_drift"].append({"row": i, "kind": "date_format", "key": "date"})
    for i in take(8):
        a = dict(train[i]["_answer"])
        if a["amount"] is None:
            continue
        a["amount"] = f"{a['amount']:.2f}"
        train[i]["completion"] = as_json(a)
        truth["format_drift"].append({"row": i, "kind": "amount_as_string", "key": "amount"})

    # Unsupported values: facts the message does not contain.
    for i in take(24):
        a = dict(train[i]["_answer"])
        field = rnd.choice(["order_id", "amount", "product", "date"])
        if field == "order_id":
            a["order_id"] = _order_id(rnd)
        elif field == "amount":
            a["amount"] = round((a["amount"] or rnd.randint(20, 80)) + rnd.choice([10, 25, 100]) + 0.99, 2)
            a["currency"] = a["currency"] or "EUR"
        elif field == "product":
            a["product"] = rnd.choice([p for p in PRODUCTS if p != a["product"]])
        else:
            a["date"] = f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        train[i]["completion"] = as_json(a)
        truth["unsupported"].append({"row": i, "key": field})

    # Truncated and empty answers.
    for i in take(10):
        full = train[i]["completion"]
        train[i]["completion"] = full[:rnd.randint(len(full) // 3, len(full) - 5)]
        truth["truncated"].append(i)
    for i in take(4):
        train[i]["completion"] = rnd.choice(["", " "])
        truth["empty"].append(i)

    # Boilerplate: disclaimers, refusals, one annotator's signature under each of their answers.
    for i in take(5):
        train[i]["completion"] = ("As an AI language model, I cannot access order systems, but here is the extracted "
                                  "information:\n" + train[i]["completion"])
        truth["boilerplate"].append({"row": i, "kind": "disclaimer"})
    for i in take(4):
        train[i]["completion"] = rnd.choice(["I'm sorry, but I can't help with that request.",
                                             "I'm sorry, I cannot assist with processing personal order information."])
        truth["boilerplate"].append({"row": i, "kind": "refusal"})
    for i in take(12):
        train[i]["completion"] += "\n\n-- Reviewed by the Acme data team"
        truth["boilerplate"].append({"row": i, "kind": "signature"})

    # The same message with a materially different answer.
    extra: list[tuple[dict, str, int]] = []
    for i in take(8):
        a = dict(train[i]["_answer"])
        a["issue_type"] = rnd.choice([x for x in ISSUES if x != a["issue_type"]])
        extra.append(({"prompt": train[i]["prompt"], "completion": as_json(a)}, "conflict", i))
    return assemble(train, eval_, extra, truth, rnd)


def assemble(train: list[dict], eval_: list[dict], extra: list[tuple[dict, str, int]], truth: dict,
             rnd: random.Random) -> dict:
    """Leak 8 eval rows into train (verbatim, and with a greeting added), insert them and the extra rows
    at random places, and turn the truth's row numbers into the lines of the written file."""
    for j in rnd.sample(range(len(eval_)), 8):
        ev = eval_[j]
        prompt = ev["prompt"] if len(extra) % 2 else rnd.choice(["Hello again. ", "Hi, "]) + ev["prompt"]
        extra.append(({"prompt": prompt, "completion": ev["completion"]}, "leak", j))
    final: list[tuple[dict, str, int]] = [(r, "natural", i) for i, r in enumerate(train)]
    for item in extra:
        final.insert(rnd.randrange(len(final) + 1), item)
    line_of = {i: n + 1 for n, (_, kind, i) in enumerate(final) if kind == "natural"}
    for n, (row, kind, ref) in enumerate(final):
        if kind == "conflict":
            truth["conflicts"].append([line_of[ref], n + 1])
        elif kind == "leak":
            truth["leaks"].append({"eval_line": ref + 1, "train_line": n + 1})
    for key in ("format_drift", "unsupported", "boilerplate"):
        for item in truth[key]:
            item["line"] = line_of[item.pop("row")]
        truth[key].sort(key=lambda x: x["line"])
    truth["truncated"] = sorted(line_of[i] for i in truth["truncated"])
    truth["empty"] = sorted(line_of[i] for i in truth["empty"])
    rows = [{"prompt": r["prompt"], "completion": r["completion"]} for r, _, _ in final]
    return {"train": rows, "eval": eval_, "truth": truth}


def to_chat(row: dict, system: str = SYSTEM_PROMPT) -> dict:
    return {"messages": [{"role": "system", "content": system}, {"role": "user", "content": row["prompt"]},
                         {"role": "assistant", "content": row["completion"]}]}


def write(out: Path, made: dict, system: str = SYSTEM_PROMPT) -> None:
    """train/eval as prompt-completion and chat (with `system`), and truth.json."""
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", made["train"]), ("eval", made["eval"])):
        (out / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        (out / f"{name}_chat.jsonl").write_text("".join(json.dumps(to_chat(r, system), ensure_ascii=False) + "\n"
                                                        for r in rows), encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(made["truth"], indent=1) + "\n", encoding="utf-8")


def main(make=make, default_out: str = "examples/orders", system: str = SYSTEM_PROMPT, doc: str = __doc__) -> None:
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--out", default=default_out)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-rows", type=int, default=600)
    ap.add_argument("--eval-rows", type=int, default=150)
    args = ap.parse_args()
    made = make(args.seed, args.train_rows, args.eval_rows)
    write(Path(args.out), made, system)
    print(f"wrote {len(made['train'])} train and {len(made['eval'])} eval rows to {args.out}")


if __name__ == "__main__":
    main()
