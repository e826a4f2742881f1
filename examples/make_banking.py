"""Planted copies in short banking requests, shaped like crowd-written intent data: sibling intents whose
requests share most words and differ in the one word that decides ("top up with a card" / "with a
cheque", "my card" / "my phone was stolen", "virtual" / "physical card"), so a finder that calls those
copies loses precision. The planted copies are what real users' copies look like and no hand list
covers: greetings and sign-offs of many kinds ("Hello again, Hello,", "Kind regards. Sent from my
phone."), two or three typos in one row, merged words ("sawit"), short typo'd words ("th", "yuo"), and
Cyrillic look-alike letters. Ground truth in truth.json; scored by examples/score_planted.py.

    python examples/make_banking.py /tmp/banking --seed 0
    harness audit /tmp/banking/train.jsonl --eval /tmp/banking/eval.jsonl --out /tmp/b
    python examples/score_planted.py /tmp/b/audit.json /tmp/banking/truth.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

try:
    from . import make_tickets
except ImportError:  # run as a script
    import make_tickets

# Each intent's requests as crowd workers wrote them; {amount}, {merchant}, {day} are filled per row.
# Siblings share wording on purpose (the deciding word is all that differs).
INTENTS: dict[str, list[str]] = {
    "top_up_by_card": [
        "How can I top up my account with a card?", "Can I add money using my debit card?",
        "I want to top up {amount} with my credit card", "Is it possible to top up by card?",
        "What cards can I use to top up?", "top up with card not working out for me, how do I do it",
        "How do I load money onto my account from my bank card?"],
    "top_up_by_cash_or_cheque": [
        "How can I top up my account with a cheque?", "Can I add money using cash?",
        "I want to top up {amount} with a cheque", "Is it possible to top up by cash?",
        "Where can I deposit a cheque to top up?", "How do I load money onto my account with cash?"],
    "top_up_failed": [
        "My top up of {amount} failed", "Why did my top up not go through?", "The top up was declined {day}",
        "I tried to top up but it failed again", "top up failed, what's wrong?"],
    "lost_or_stolen_card": [
        "My card was stolen", "I think someone saw my card and took it", "I lost my card {day}",
        "Someone stole my card, what do I do?", "I can't find my card anywhere", "My cards were stolen at the station"],
    "lost_or_stolen_phone": [
        "My phone was stolen", "I think someone took my phone with the app on it", "I lost my phone {day}",
        "Someone stole my phone, what do I do?", "I can't find my phone anywhere"],
    "pin_blocked": [
        "My PIN got blocked", "I entered the wrong PIN too many times and now it is blocked",
        "How do I unblock my PIN?", "my pin is locked, help", "The PIN on my card got blocked {day}"],
    "change_pin": [
        "How do I change my PIN?", "I want to change the PIN on my card", "Can I pick a new PIN?",
        "Where do I go to change my pin number?", "Is it possible to reset my PIN to a new one?"],
    "getting_virtual_card": [
        "I need a virtual card", "How do I get a virtual card?", "Can I order a virtual card for online shopping?",
        "Where can I find my virtual card details?", "I want a second virtual card"],
    "order_physical_card": [
        "I need a physical card", "How do I get a physical card?", "Can I order a physical card to my home?",
        "Where can I order a plastic card?", "I want a second physical card"],
    "card_arrival": [
        "My card has not arrived yet", "When will my new card arrive?", "It's been a week and my card is still not here",
        "How long does card delivery take?", "I ordered a card {day} and it hasn't come"],
    "declined_card_payment": [
        "My card payment was declined at {merchant}", "Why was my card declined?",
        "The card payment of {amount} was declined", "I tried to pay with my card but it was declined",
        "card declined at the shop {day}"],
    "request_refund": [
        "I want a refund for {amount} from {merchant}", "How do I request a refund?",
        "Can I get my money back for a purchase at {merchant}?", "I need a refund, the item never came",
        "Please refund the {amount} I paid {day}"],
    "card_payment_fee_charged": [
        "Why was I charged a fee for a card payment?", "There is an extra fee on my card payment at {merchant}",
        "I was charged {amount} extra for paying by card", "What is this fee on my card payment?"],
    "transfer_not_received": [
        "My transfer of {amount} has not arrived", "The money I sent {day} was not received",
        "My friend says the transfer never reached them", "Why hasn't my transfer come through yet?"],
    "exchange_rate": [
        "What exchange rate do you use?", "What is the exchange rate for euros today?",
        "How is the exchange rate calculated?", "Is the exchange rate the same at the weekend?"],
}
MERCHANTS = ["Tesco", "Amazon", "Uber", "Zara", "Lidl", "IKEA", "Starbucks", "Ryanair", "Netflix", "Boots"]
DAYS = ["yesterday", "today", "on Monday", "last week", "on Friday", "this morning", "two days ago"]
PREFIXES = ["", "", "", "", "Hi, ", "Hello, ", "Hey, "]
# Context crowd workers add to any request; it spreads such words over the intents, as in real data.
CONTEXT = ["", "", "", "", "", " again", " for my friend", " from abroad", " while travelling", " on the app",
           " this time", " as soon as possible", " if possible", " right now", " with my partner", " there"]
SUFFIXES = ["", "", "", "", " Thanks.", " Thank you!", " Please help."]

# What copies carry in real inboxes and no hand list holds.
GREETINGS = ["Hello again, Hello,", "Good day to you,", "Yo,", "Howdy,", "Greetings from Porto,", "Hey hey,",
             "Hallo,", "Hi guys and gals,", "Morning all,", "Hiya support,", "Sorry to bother you,",
             "Hello there my friends,", "Salut,", "Quick question:"]
SIGN_OFFS = ["Kind regards. Sent from my phone.", "Have a nice day!", "Much obliged.", "Talk soon.",
             "Sent from my iPad", "Looking forward to your reply.", "Warmly, Ana", "Appreciate your help!",
             "Ta.", "Best wishes, Tom", "Thanks a million!!", "Many thanks in advance, J.", "Cheers mate",
             "Regards, Customer 4471"]
SHORT_TYPOS = {"the": "th", "you": "yuo", "of": "fo", "my": "ym", "and": "adn", "to": "ot", "is": "si",
               "it": "ti", "for": "fro", "how": "hwo", "was": "wsa", "can": "cna"}
# Latin -> Cyrillic look-alikes (Unicode confusables).
HOMOGLYPHS = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441", "y": "\u0443",
              "x": "\u0445", "i": "\u0456"}


def _fill(template: str, rnd: random.Random) -> str:
    amount = rnd.choice(["£", "€", "$"]) + str(rnd.choice([5, 10, 20, 25, 40, 50, 75, 100, 150, 200, 250]))
    return template.format(amount=amount, merchant=rnd.choice(MERCHANTS), day=rnd.choice(DAYS))


def _row(label: str, rnd: random.Random) -> dict:
    """A request and the id of the phrasing it was written from (rows of one phrasing are one request)."""
    k = rnd.randrange(len(INTENTS[label]))
    text = _fill(INTENTS[label][k], rnd)
    context = rnd.choice(CONTEXT)
    if context and text[-1] in "?.!":
        text = text[:-1] + context + text[-1]
    elif context:
        text += context
    text = rnd.choice(PREFIXES) + (text[0].lower() + text[1:] if rnd.random() < 0.5 else text) + rnd.choice(SUFFIXES)
    return {"text": text.strip(), "label": label, "request": f"{label}/{k}"}


def typo(text: str, rnd: random.Random) -> str:
    """One keyboard slip in a word of four letters or more that has none yet (make_tickets' slips)."""
    return make_tickets.typo(text, rnd, words=_VOCABULARY)


_VOCABULARY = {w.lower() for t in [x for v in INTENTS.values() for x in v] + PREFIXES + SUFFIXES + CONTEXT
               for w in re.findall(r"[A-Za-z]+", t)}


def short_typo(text: str, rnd: random.Random) -> str:
    words = text.split(" ")
    spots = [k for k, w in enumerate(words) if w.lower() in SHORT_TYPOS]
    if not spots:
        return typo(text, rnd)
    k = rnd.choice(spots)
    words[k] = SHORT_TYPOS[words[k].lower()]
    return " ".join(words)


def merge_words(text: str, rnd: random.Random) -> str:
    spots = [m.start() for m in re.finditer(r"[a-z]{2,} [a-z]{2,}", text)]
    if not spots:
        return typo(text, rnd)
    i = text.index(" ", rnd.choice(spots))
    return text[:i] + text[i + 1:]


def homoglyphs(text: str, rnd: random.Random) -> str:
    """Two to four Latin letters swapped for their Cyrillic look-alikes."""
    spots = [i for i, c in enumerate(text) if c in HOMOGLYPHS]
    for i in rnd.sample(spots, min(len(spots), rnd.randint(2, 4))):
        text = text[:i] + HOMOGLYPHS[text[i]] + text[i + 1:]
    return text


def copy_of(text: str, rnd: random.Random, kind: str) -> str:
    """A copy as users make them: `kind` picks the main change, case and spacing may change too."""
    if kind == "greeting":
        text = rnd.choice(GREETINGS) + " " + text[0].lower() + text[1:]
    elif kind == "sign_off":
        text = text.rstrip(".!?") + ". " + rnd.choice(SIGN_OFFS)
    elif kind == "typos":
        for _ in range(rnd.choice([2, 3])):
            text = rnd.choice([typo, typo, merge_words])(text, rnd)
    elif kind == "short_typo":
        text = short_typo(text, rnd)
    elif kind == "homoglyph":
        text = homoglyphs(text, rnd)
    elif kind == "mixed":
        text = rnd.choice(GREETINGS) + " " + typo(text, rnd) + " " + rnd.choice(SIGN_OFFS)
    if rnd.random() < 0.2:
        text = text.lower() if rnd.random() < 0.5 else text.upper()
    if rnd.random() < 0.2:
        text = text.replace(" ", "  ", 1)
    return text


KINDS = ["greeting", "sign_off", "typos", "short_typo", "homoglyph", "mixed"]
# Rows that are no customer request, each stored under some intent: an agent's reply kept as a query,
# questions with nothing in them, text from another task.
OUT_OF_PLACE = [
    "Thank you for contacting us. Your replacement card was dispatched today and should arrive within 3-5 working days.",
    "Hi Sam, I have refunded the fee to your account; it will show within 24 hours. Kind regards, the support team",
    "what is the word?",
    "WHAT IS THE REASON FOR THAT",
    "Preheat the oven to 180 degrees and bake the cake for 25 minutes.",
    "The meeting has been moved to Thursday afternoon in room 4B.",
]


def make(seed: int = 0, train_rows: int = 1500, eval_rows: int = 300, copies: int = 60, conflicts: int = 30,
         leaks: int = 30, outliers: int = len(OUT_OF_PLACE)) -> dict:
    rnd = random.Random(seed)
    labels = list(INTENTS)
    train = [_row(rnd.choice(labels), rnd) for _ in range(train_rows)]
    eval_ = [_row(rnd.choice(labels), rnd) for _ in range(eval_rows)]
    # Originals of copies are rows whose text is unique in train and eval, so the truth is unambiguous.
    seen: dict[str, int] = {}
    for r in train + eval_:
        key = " ".join(r["text"].casefold().split())
        seen[key] = seen.get(key, 0) + 1
    unique = [i for i, r in enumerate(train) if seen[" ".join(r["text"].casefold().split())] == 1]
    sources = rnd.sample(unique, copies + conflicts)
    truth: dict = {"near_duplicates": [], "conflicts": [], "leaks": [], "exact_duplicates": [], "kinds": {}}
    for n, src in enumerate(sources):
        kind = KINDS[n % len(KINDS)]
        label = train[src]["label"]
        if n >= copies:
            label = rnd.choice([x for x in labels if x != label])
        train.append({"text": copy_of(train[src]["text"], rnd, kind), "label": label, "request": train[src]["request"]})
        pair = [src + 1, len(train)]
        truth["near_duplicates" if n < copies else "conflicts"].append(pair)
        truth["kinds"][str(len(train))] = kind
    unique_eval = [i for i, r in enumerate(eval_) if seen[" ".join(r["text"].casefold().split())] == 1]
    for n, e in enumerate(rnd.sample(unique_eval, leaks)):
        kind = KINDS[n % len(KINDS)]
        train.append({"text": copy_of(eval_[e]["text"], rnd, kind), "label": eval_[e]["label"],
                      "request": eval_[e]["request"]})
        truth["leaks"].append({"eval_line": e + 1, "train_line": len(train), "kind": kind})
    truth["outliers"] = []
    for n, text in enumerate(OUT_OF_PLACE[:outliers]):
        train.append({"text": text, "label": rnd.choice(labels), "request": f"out_of_place/{n}"})
        truth["outliers"].append(len(train))
    # Which phrasing each line was written from: two rows of one phrasing are one request (they differ by
    # a greeting, a thank-you, case or a slot value), rows of two phrasings are different requests.
    truth["request"] = {split: [r.pop("request") for r in rows] for split, rows in (("train", train), ("eval", eval_))}
    truth["seed"] = seed
    return {"train": train, "eval": eval_, "truth": truth}


def write(out: Path, made: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "eval"):
        with open(out / f"{split}.jsonl", "w", encoding="utf-8") as fh:
            for row in made[split]:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    (out / "truth.json").write_text(json.dumps(made["truth"], indent=1), encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    write(args.out, make(args.seed))


if __name__ == "__main__":
    main()
