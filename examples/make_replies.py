"""Generate a reply-style set (customer messages -> support replies in one company's voice) with planted
defects and their ground truth.

The messages are the order-support inbox of examples/make_orders.py. Each reply is what the company's
care team writes, in its house style: the customer greeted by name when they signed ("Hi Maria,",
else "Hi there,"), one sentence that names their problem and the product, one that says what was done
(with the order number when the message gave one, else asking for it; amounts as "49.99 EUR"), a
closing line, and the team's sign-off. The wording of each part varies, so no two replies are alike;
the voice does not. A fine-tune on this set should learn the voice, which exact match can never see:
it is the free-text case of the gate (chrF, ROUGE-L, length and format; issue 19).

Planted in train, each on its own rows (truth.json names their lines):
- format drift: a few replies written as bullet lists of actions instead of the house prose;
- truncated replies (cut off mid-sentence) and empty replies;
- boilerplate: "As an AI language model" openings, refusals, and one agent's phone signature
  ("Sent from my iPhone") under each of their replies;
- the same message twice with materially different replies (conflicts);
- eval rows leaked into train (verbatim and lightly edited).
The house sign-off under every reply is the style being taught, not boilerplate: an audit that flags it
is wrong.

    python examples/make_replies.py --out examples/replies

Writes train.jsonl and eval.jsonl ({"prompt", "completion"}), train_chat.jsonl, eval_chat.jsonl and
truth.json.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

try:
    from . import make_orders
except ImportError:  # run as a script
    import make_orders

NAMES, _shingles, natural_row = make_orders.NAMES, make_orders._shingles, make_orders.natural_row

SYSTEM_PROMPT = "You are Parcelly's customer care team. Reply to the customer's message in the Parcelly house style."
SIGN_OFF = "Warm regards,\nThe Parcelly Care team"

SORRY = {
    "damaged": ["I'm really sorry your {product} arrived damaged.", "I'm sorry the {product} reached you in that state.",
                "That's not how your {product} should have arrived, and I'm sorry."],
    "missing_item": ["I'm sorry the {product} was missing from your parcel.",
                     "I'm sorry your parcel arrived without the {product}.",
                     "Sorry that the {product} didn't make it into your box."],
    "late_delivery": ["I'm sorry your {product} is taking so long to reach you.",
                      "I'm sorry the {product} hasn't arrived yet.", "Sorry for the wait on your {product}."],
    "wrong_item": ["I'm sorry we sent you the wrong {product}.", "Apologies for the mix-up with your {product}.",
                   "I'm sorry the {product} you received isn't the one you chose."],
    "refund_request": ["Thanks for getting in touch about a refund for the {product}.",
                       "Thank you for your message about the {product} refund.",
                       "I understand you'd like your money back for the {product}."],
    "double_charge": ["I'm sorry you were charged twice for the {product}.",
                      "Sorry about the duplicate charge for your {product}.",
                      "I'm sorry the {product} was billed to you two times."],
    "cancellation": ["Thanks for letting us know you'd like to cancel the {product}.",
                     "No problem at all about cancelling the {product}.",
                     "Thanks for telling us you no longer need the {product}."],
}
# What was done (past tense, with the order number) and what will be done once the number is known.
DONE = {
    "damaged": ("I've arranged a free replacement on order {oid}, and there's no need to send the damaged one back.",
                "arrange a free replacement"),
    "missing_item": ("I've sent the missing {product} on order {oid} by express delivery.", "send the missing item by express"),
    "late_delivery": ("I've asked the courier to trace order {oid}, and I'll update you within 24 hours.",
                      "ask the courier to trace it"),
    "wrong_item": ("I've booked a free return for order {oid} and sent the right {product} today.",
                   "book a free return and send the right item"),
    "refund_request": ("I've started your refund{amount} on order {oid}; it reaches your account in 3-5 working days.",
                       "start your refund"),
    "double_charge": ("I've refunded the duplicate payment{amount} on order {oid}; it shows on your statement in 3-5 working days.",
                      "refund the duplicate payment"),
    "cancellation": ("I've cancelled order {oid}{refund}.", "cancel it"),
}
ASK = ["Could you reply with your order number? As soon as I have it, I'll {future}.",
       "Could you send me your order number? Then I'll {future} right away.",
       "If you reply with your order number, I'll {future} straight away."]
CLOSINGS = ["If anything else comes up, just reply to this email.", "Thanks for your patience.",
            "If there's anything else, we're here to help.", "Thank you for shopping with Parcelly."]
BULLETS = ["- Replacement arranged\n- Ships in 2 working days\n- No return needed", "- Refund started\n- 3-5 working days",
           "- Courier asked to trace the parcel\n- Update within 24 hours", "- Order cancelled\n- Refund to follow"]


def reply(message: str, answer: dict, rnd: random.Random) -> str:
    """The house-style reply to one message, from the facts extracted from it."""
    signed = re.search(r",\s*([A-Z][a-z]+)\.?$", message.strip())
    name = signed.group(1) if signed and signed.group(1) in NAMES else None
    issue, product = answer["issue_type"], answer["product"]
    amount = f" of {answer['amount']:.2f} {answer['currency']}" if answer["amount"] is not None else ""
    refund = (f"; your refund of {answer['amount']:.2f} {answer['currency']} follows in 3-5 working days"
              if answer["amount"] is not None else "")
    done, future = DONE[issue]
    if answer["order_id"]:
        action = done.format(oid=answer["order_id"], product=product, amount=amount, refund=refund)
    else:
        action = rnd.choice(ASK).format(future=future)
    body = f"{rnd.choice(SORRY[issue]).format(product=product)} {action} {rnd.choice(CLOSINGS)}"
    return f"Hi {name or 'there'},\n\n{body}\n\n{SIGN_OFF}"


def make(seed: int = 0, train_rows: int = 600, eval_rows: int = 150) -> dict:
    rnd = random.Random(seed)
    natural: list[tuple[str, str, dict]] = []
    kept: list[frozenset] = []
    while len(natural) < train_rows + eval_rows:
        text, answer = natural_row(rnd)
        sh = _shingles(text)
        if any(len(sh & o) / len(sh | o) >= 0.45 for o in kept):
            continue
        kept.append(sh)
        natural.append((text, reply(text, answer, rnd), answer))
    train = [{"prompt": t, "completion": r, "_answer": a} for t, r, a in natural[:train_rows]]
    eval_ = [{"prompt": t, "completion": r} for t, r, _ in natural[train_rows:]]
    truth: dict = {"format_drift": [], "unsupported": [], "truncated": [], "empty": [], "boilerplate": [],
                   "conflicts": [], "leaks": [], "seed": seed, "kind": "free_text"}
    pool = list(range(len(train)))
    rnd.shuffle(pool)
    take = lambda k: [pool.pop() for _ in range(k)]  # noqa: E731

    for i in take(6):
        train[i]["completion"] = rnd.choice(BULLETS)
        truth["format_drift"].append({"row": i, "kind": "list"})
    for i in take(10):  # cut mid-sentence: after a word, before the sign-off
        body = train[i]["completion"].split("\n\n")[1]
        words = body.split(" ")
        cuts = [k for k in range(3, len(words) - 1) if not words[k - 1].endswith((".", "?", "!"))]
        train[i]["completion"] = (train[i]["completion"].split("\n\n")[0] + "\n\n"
                                  + " ".join(words[:rnd.choice(cuts)]).rstrip(".,;"))
        truth["truncated"].append(i)
    for i in take(4):
        train[i]["completion"] = rnd.choice(["", " "])
        truth["empty"].append(i)
    for i in take(5):
        greeting, rest = train[i]["completion"].split("\n\n", 1)
        train[i]["completion"] = (f"{greeting}\n\nAs an AI language model, I can't check orders myself, but here is "
                                  f"what I would say. {rest}")
        truth["boilerplate"].append({"row": i, "kind": "disclaimer"})
    for i in take(4):
        train[i]["completion"] = rnd.choice(["I'm sorry, but I can't help with that request.",
                                             "I'm sorry, I cannot assist with order or payment questions."])
        truth["boilerplate"].append({"row": i, "kind": "refusal"})
    for i in take(12):
        train[i]["completion"] += "\n\nSent from my iPhone"
        truth["boilerplate"].append({"row": i, "kind": "signature"})

    extra: list[tuple[dict, str, int]] = []
    for i in take(8):  # the same message, answered with another issue's resolution
        a = train[i]["_answer"]
        other = rnd.choice([k for k in DONE if k != a["issue_type"]])
        greeting = train[i]["completion"].split("\n\n")[0]
        done = DONE[other][0].format(oid=a["order_id"] or "on file", product=a["product"], amount="", refund="")
        wrong = f"{greeting}\n\nThanks for your message. {done} {rnd.choice(CLOSINGS)}\n\n{SIGN_OFF}"
        extra.append(({"prompt": train[i]["prompt"], "completion": wrong}, "conflict", i))
    return make_orders.assemble(train, eval_, extra, truth, rnd)


def write(out: Path, made: dict) -> None:
    make_orders.write(out, made, SYSTEM_PROMPT)


if __name__ == "__main__":
    make_orders.main(make, "examples/replies", SYSTEM_PROMPT, __doc__)
