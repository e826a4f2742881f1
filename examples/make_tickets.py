"""Generate a help-desk ticket classification set with planted defects and their ground truth.

The rows read like a real support inbox: greetings and sign-offs, typos, products, order numbers,
amounts, dates, devices and error messages, in eight intents. Natural rows are kept distinct from each
other (character 5-gram Jaccard below 0.45, checked here with plain Python sets), so every duplicate,
conflict and leak in the output is one we planted and the ground truth is exact.

Planted in train: exact copies (case and spacing changed), near copies (a typo, a greeting, a
signature, or two of these), conflicting copies with another label, label flips, eval rows leaked
(exact, near, and pasted inside a longer ticket), personal data (e-mail, phone, card, IBAN, IP, API
key), a shortcut (one intent's tickets all arrived through a "[WhatsApp]" channel tag), over-long rows
(pasted logs), and a few invalid rows.

    python examples/make_tickets.py --out examples/tickets            # the shipped example
    python examples/make_tickets.py --out /tmp/big --train-rows 200000 --eval-rows 5000 --fast   # bench

Writes train.jsonl, eval.jsonl, train_chat.jsonl, eval_chat.jsonl and truth.json.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import unicodedata
from pathlib import Path

LABELS = ["account_access", "billing", "delivery", "returns", "technical_issue", "cancellation",
          "product_question", "feedback"]
SYSTEM_PROMPT = "You are a help-desk triage assistant. Answer with the ticket's category only."

PRODUCTS = ["Acme Router X2", "Lumen smart bulb", "Pulse fitness watch", "Nimbus backup plan", "Orbit earbuds",
            "Vega 27in monitor", "Kestrel e-bike", "Aster coffee grinder", "Halo doorbell cam", "Tern travel backpack",
            "Quill tablet", "Sable office chair", "Pico label printer", "Fjord water bottle", "Cobalt gaming mouse"]
PLANS = ["Basic", "Plus", "Family", "Pro", "Business", "Student"]
DEVICES = ["iPhone 13", "Pixel 7", "Galaxy S22", "my Windows laptop", "a MacBook Air", "an old iPad", "Chrome on Linux"]
ERRORS = ["error 403", "ERR_CONN_RESET", "code E-1042", "a blank white screen", "\"something went wrong\"",
          "error 500", "a spinning wheel forever", "timeout after 30s", "SSL handshake failed", "code 0x80070005"]
CARRIERS = ["UPS", "DHL", "FedEx", "the postal service", "Royal Mail", "DPD", "a local courier"]
CITIES = ["Leeds", "Austin", "Lyon", "Porto", "Dublin", "Denver", "Gdansk", "Osaka", "Bristol", "Tucson"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "the weekend", "yesterday", "last week"]
NAMES = ["Maria", "Tom", "Priya", "Jonas", "Aiko", "Sam", "Fatima", "Lukas", "Chen", "Olivia", "Diego", "Noah"]

GREETINGS = ["Hi", "Hello", "Hey", "Hi there", "Hello team", "Good morning", "Dear support", "Hiya", "Hey folks",
             "Hello support team", "Good afternoon", "Hi all"]
SIGNOFFS = ["Thanks", "Thank you", "Cheers", "Regards", "Best", "Many thanks", "Thanks in advance", "Kind regards",
            "Thx", "Appreciate it"]

# Two pools per intent: what happened, and what the customer wants or adds. Slots in braces.
INTENTS = {
    "account_access": (
        ["I can't log in to my account since {day}.", "my password reset email never arrives.",
         "the app keeps saying my password is wrong even after I reset it.", "I'm locked out after too many attempts.",
         "two-factor codes are not coming through to my phone.", "I changed my email address and now I can't sign in.",
         "the login page just reloads when I press sign in on {device}.", "my account shows as suspended for no reason.",
         "I get {error} when I try to sign in.", "I forgot which email I used to register.",
         "the verification link says it has expired.", "someone else seems to have changed my login details."],
        ["Can you unlock it please?", "I need access today for work.", "Please help me get back in.",
         "I have tried three browsers already.", "How do I verify it's my account?", "Could you send a new reset link?",
         "This is really frustrating.", "My username is the same as always.", "I already cleared cookies and cache.",
         "Is there a way to turn off two-factor temporarily?", "What do you need from me to prove who I am?",
         "It worked fine until {day}."]),
    "billing": (
        ["I was charged {amount} twice this month.", "my invoice shows the {plan} plan but I'm on Basic.",
         "there is a charge of {amount} I don't recognise.", "the discount code was not applied to my bill.",
         "my card was billed {amount} after I downgraded.", "I was charged VAT even though I gave a business number.",
         "the price went up to {amount} without any notice.", "I paid {amount} but the invoice says unpaid.",
         "I need an invoice with my company address for {month}.", "my payment failed but the money left my account.",
         "the annual plan renewed at the wrong price.", "I see a pending charge of {amount} from {day}."],
        ["Please correct the invoice.", "Can you explain what this charge is for?", "I'd like the extra charge reversed.",
         "Please send an updated invoice.", "How do I change the card on file?", "Our finance team needs this fixed.",
         "Order {order} if that helps.", "I have the bank statement if you need it.", "Who can I talk to about this?",
         "This is the second time it happened.", "Please check and get back to me.", "Can you confirm the correct amount?"]),
    "delivery": (
        ["my order {order} still hasn't arrived.", "tracking has said out for delivery since {day}.",
         "the parcel was marked delivered but it is not here.", "{carrier} says the address is incomplete.",
         "my package is stuck in customs in {city}.", "the delivery date keeps moving back.",
         "only half of order {order} was delivered.", "the courier left my parcel with a neighbour I don't know.",
         "I need the {product} before {day} and it hasn't shipped.", "the tracking number doesn't work on {carrier}'s site.",
         "the box arrived crushed and soaking wet.", "I was never given a delivery slot."],
        ["Where is it now?", "Can you chase the courier?", "Can you send it again?", "It was a gift, so it matters.",
         "Could you confirm the shipping address?", "I paid for express shipping.", "Please give me an update.",
         "I've been waiting over a week.", "Can I pick it up from a depot in {city}?", "Is it lost?",
         "The order number is {order}.", "Nobody was home on {day}."]),
    "returns": (
        ["I want to return the {product} I bought.", "the {product} is the wrong size, how do I send it back?",
         "I received the wrong colour of the {product}.", "I'd like to exchange the {product} for another model.",
         "the return label you sent doesn't print.", "I sent the {product} back two weeks ago and heard nothing.",
         "the {product} stopped working after {days} days and I want to return it.",
         "can I return an item I bought in a store in {city}?", "the return portal won't accept order {order}.",
         "the {product} was a gift and I'd like to swap it.", "I opened the {product} but never used it, can I return it?",
         "my return was rejected and I don't know why."],
        ["Is it still within the return window?", "Do I need the original box?", "Who pays for the return postage?",
         "Can I get store credit instead?", "Please send a return label.", "How long does an exchange take?",
         "The order number is {order}.", "I still have the receipt.", "Can a courier collect it?",
         "I'd prefer an exchange.", "What condition does it need to be in?", "It's unused and in the box."]),
    "technical_issue": (
        ["the {product} keeps disconnecting from wifi.", "the app crashes when I open settings on {device}.",
         "the {product} won't turn on after the update.", "I get {error} when syncing the {product}.",
         "the firmware update fails at 80 percent.", "the {product} is very slow since {day}.",
         "the companion app doesn't find the {product} over bluetooth.", "the screen on the {product} flickers.",
         "the {product} battery drains in a few hours.", "notifications stopped working on {device}.",
         "the {product} makes a clicking noise and restarts.", "the desktop app shows {error} on startup."],
        ["I already restarted it twice.", "I tried a factory reset.", "Is there a known bug?",
         "Is there a fix or a workaround?", "It's running the latest version.", "I can send logs if needed.",
         "This started after the last update.", "I need it working for a trip.", "Other devices work fine.",
         "How do I roll back the update?", "It happens every single time.", "Screenshots attached."]),
    "cancellation": (
        ["I want to cancel my {plan} subscription.", "please close my account and delete my data.",
         "how do I stop the automatic renewal?", "I'd like to cancel order {order} before it ships.",
         "I signed up for the trial and want to cancel before I'm charged.",
         "I'm moving abroad and need to end my contract.", "please cancel the add-on I bought by mistake.",
         "the cancel button in settings does nothing.", "I want to end my membership at the end of the month.",
         "cancel the {plan} plan for my second user please.", "I no longer need the {product} protection plan.",
         "how much notice do I need to give to cancel?"],
        ["Please confirm by email.", "I don't want to be billed again.", "Is there a cancellation fee?",
         "Please make sure nothing renews.", "Thanks for the service so far.", "When does it take effect?",
         "Do I lose my data straight away?", "I've already tried doing it in the app.",
         "I'd like written confirmation.", "Can it stop from {day}?", "No need to call me.",
         "Please process this today."]),
    "product_question": (
        ["does the {product} work with {device}?", "what is the warranty on the {product}?",
         "is the {product} waterproof?", "can the {product} be used abroad in {city}?",
         "what's the difference between the {plan} and Pro plans?", "does the {product} come with a charger?",
         "how many users can share the {plan} plan?", "when will the {product} be back in stock?",
         "is there a student discount on the {product}?", "can I use the {product} without the app?",
         "what are the dimensions of the {product}?", "does the {plan} plan include phone support?"],
        ["I'm deciding before I order.", "The website doesn't say.", "Thinking of buying two.",
         "It's for my office.", "Any info would help.", "I couldn't find it in the FAQ.",
         "Happy to upgrade if so.", "I need to know by {day}.", "Asking for a friend too.",
         "A link to the spec sheet would be great.", "Is there a comparison table?", "Just curious."]),
    "feedback": (
        ["just wanted to say the new app design is great.", "your agent {name} was incredibly helpful.",
         "the {product} is the best purchase I've made this year.", "I'm disappointed with how long support takes.",
         "the checkout page is confusing on {device}.", "it would be nice to have a dark mode.",
         "please bring back the old dashboard layout.", "delivery was faster than expected, well done.",
         "the packaging uses way too much plastic.", "the {product} manual is hard to follow.",
         "I love the {plan} plan features.", "the new update made the app harder to use."],
        ["Keep it up.", "Just sharing my experience.", "Hope this helps you improve.", "No reply needed.",
         "I'll recommend you to friends.", "Please pass this on to the team.", "Otherwise all good.",
         "Thanks for listening.", "Would be great to see this changed.", "Five stars from me.",
         "I've been a customer for years.", "Consider this a suggestion."]),
}
EXTRA = ["I'm writing from {city}.", "My account email is the usual one.", "This is my first time contacting you.",
         "I bought it on {day}.", "Sorry for the long message.", "I've attached a photo.",
         "I called earlier but the line was busy.", "My neighbour had the same problem.",
         "I'm on the {plan} plan.", "It's been {days} days now."]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October"]


def _fill(template: str, rnd: random.Random) -> str:
    return template.format(
        product=rnd.choice(PRODUCTS), plan=rnd.choice(PLANS), device=rnd.choice(DEVICES), error=rnd.choice(ERRORS),
        carrier=rnd.choice(CARRIERS), city=rnd.choice(CITIES), day=rnd.choice(DAYS), name=rnd.choice(NAMES),
        month=rnd.choice(MONTHS), days=rnd.randint(2, 40),
        amount=rnd.choice(["$", "€", "£"]) + f"{rnd.randint(4, 240)}.{rnd.choice(['00', '99', '49', '50', '95'])}",
        order=f"#{rnd.choice(string.ascii_uppercase)}{rnd.choice(string.ascii_uppercase)}-{rnd.randint(10000, 99999)}")


def typo(text: str, rnd: random.Random, words: set[str] | None = None) -> str:
    """One realistic keyboard slip inside a word: drop, double, swap or replace a letter. words: only in
    these (lowercased) words, so a word is slipped once at most (no slip: the text unchanged)."""
    spots = [m.start() + 1 for m in re.finditer(r"[A-Za-z]{4,}", text) if words is None or m.group().lower() in words]
    if not spots:
        return text + "." if words is None else text
    i = rnd.choice(spots)
    kind = rnd.choice(["drop", "double", "swap", "replace"])
    if kind == "drop":
        return text[:i] + text[i + 1:]
    if kind == "double":
        return text[:i] + text[i] + text[i:]
    if kind == "swap" and i + 1 < len(text) and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + rnd.choice("aeiourstnl") + text[i + 1:]


def natural_ticket(label: str, rnd: random.Random) -> tuple[str, str]:
    """(ticket, its body): the body is what the customer says, without greeting, extras or sign-off."""
    first, second = INTENTS[label]
    body = _fill(rnd.choice(first), rnd)
    body = body[0].upper() + body[1:]
    request = _fill(rnd.choice(second), rnd)
    parts = []
    if rnd.random() < 0.55:
        parts.append(rnd.choice(GREETINGS) + rnd.choice([",", "!", " -", ""]))
    parts.append(body)
    parts.append(request)
    if rnd.random() < 0.35:
        parts.append(_fill(rnd.choice(EXTRA), rnd))
    if rnd.random() < 0.45:
        parts.append(rnd.choice(SIGNOFFS) + rnd.choice(["", ",", "!"]) + (" " + rnd.choice(NAMES) if rnd.random() < 0.5 else ""))
    text = " ".join(parts)
    if rnd.random() < 0.15:
        text = typo(text, rnd)
    if rnd.random() < 0.08:
        text = text.lower()
    return text, (body + " " + request).casefold()


def _shingles(text: str, n: int = 5) -> frozenset:
    t = " ".join(re.sub(r"[^\w\s]", " ", unicodedata.normalize("NFKC", text).casefold()).split())
    return frozenset(t[i:i + n] for i in range(max(1, len(t) - n + 1)))


def luhn_card(rnd: random.Random) -> str:
    digits = [4] + [rnd.randint(0, 9) for _ in range(14)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i:i + 4] for i in range(0, 16, 4)) if rnd.random() < 0.6 else s


def iban(rnd: random.Random) -> str:
    bank = "".join(rnd.choice(string.digits) for _ in range(18))
    country = rnd.choice(["DE", "NL", "FR", "ES"])
    numeric = "".join(str(int(c, 36)) for c in bank + country + "00")
    check = 98 - int(numeric) % 97
    s = f"{country}{check:02d}{bank}"
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


def pii_value(kind: str, rnd: random.Random) -> str:
    name = rnd.choice(NAMES).lower()
    if kind == "email":
        return f"{name}.{rnd.choice(['k', 'm', 'r', 'j'])}{rnd.randint(1, 99)}@{rnd.choice(['gmail.com', 'outlook.com', 'example.org', 'mail.co.uk'])}"
    if kind == "phone":
        return rnd.choice([f"+44 7{rnd.randint(100, 999)} {rnd.randint(100000, 999999)}",
                           f"({rnd.randint(200, 989)}) {rnd.randint(200, 999)}-{rnd.randint(1000, 9999)}",
                           f"+1 {rnd.randint(200, 989)}-{rnd.randint(200, 999)}-{rnd.randint(1000, 9999)}",
                           f"+49 30 {rnd.randint(1000, 9999)} {rnd.randint(1000, 9999)}"])
    if kind == "card":
        return luhn_card(rnd)
    if kind == "iban":
        return iban(rnd)
    if kind == "ip":
        return f"{rnd.randint(11, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
    return rnd.choice(["sk-" + "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(32)),
                       "AKIA" + "".join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
                       "ghp_" + "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(36))])


PII_SENTENCES = {
    "email": "You can reach me at {v}.", "phone": "Call me on {v} if easier.", "card": "The card used was {v}.",
    "iban": "Please refund to my account {v}.", "ip": "My router's public IP is {v} if that helps.",
    "secret": "Here is the API key from my dashboard: {v}",
}

LOG_LINES = ["2024-05-{d:02d} 10:{m:02d}:{s:02d} ERROR sync.worker - upload failed: connection reset by peer (retry {r}/5)",
             "    at com.acme.sync.Uploader.push(Uploader.java:{r}{m})",
             "2024-05-{d:02d} 10:{m:02d}:{s:02d} WARN net.http - request to /api/v2/devices/{r}{s} took {m}{s}ms"]


def make(seed: int = 0, train_rows: int = 900, eval_rows: int = 200, fast: bool = False) -> dict:
    rnd = random.Random(seed)
    natural: list[tuple[str, str]] = []
    kept: dict[str, list[frozenset]] = {lab: [] for lab in LABELS}
    bodies: set[str] = set()
    target = train_rows + eval_rows
    attempts = 0
    while len(natural) < target:
        attempts += 1
        label = LABELS[len(natural) % len(LABELS)] if rnd.random() < 0.85 else rnd.choice(LABELS)
        text, body = natural_ticket(label, rnd)
        if not fast:
            # Distinct tickets: no shared body (the same request with another greeting is the same
            # ticket) and character 5-gram Jaccard below 0.45 with every other ticket of the intent.
            sh = _shingles(text)
            if body in bodies or any(len(sh & o) / len(sh | o) >= 0.45 for o in kept[label]):
                if attempts > 200 * target:
                    raise RuntimeError("cannot generate enough distinct tickets")
                continue
            kept[label].append(sh)
            bodies.add(body)
        natural.append((text, label))
    rnd.shuffle(natural)
    train = [{"text": t, "label": lab} for t, lab in natural[:train_rows]]
    eval_ = [{"text": t, "label": lab} for t, lab in natural[train_rows:]]
    scale = max(1, train_rows // 900)
    truth: dict = {"exact_duplicates": [], "near_duplicates": [], "conflicts": [], "label_flips": [], "leaks": [],
                   "pii": [], "shortcut": {"token": "whatsapp", "label": "delivery"}, "long_rows": [], "bad_rows": []}
    # Every planted change is made on a row index that is not touched by another plant.
    pool = list(range(len(train)))
    rnd.shuffle(pool)
    take = lambda k: [pool.pop() for _ in range(k)]  # noqa: E731

    # Shortcut: every delivery ticket that came through WhatsApp carries the channel tag.
    for row in train:
        if row["label"] == "delivery" and rnd.random() < 0.6:
            row["text"] = "[WhatsApp] " + row["text"]
    for row in eval_:
        if row["label"] == "delivery" and rnd.random() < 0.6:
            row["text"] = "[WhatsApp] " + row["text"]

    flips = take(25 * scale)
    for i in flips:
        train[i]["label"] = rnd.choice([x for x in LABELS if x != train[i]["label"]])
        truth["label_flips"].append(i)
    pii_rows = take(36 * scale)
    for n, i in enumerate(pii_rows):
        kind = list(PII_SENTENCES)[n % len(PII_SENTENCES)]
        value = pii_value(kind, rnd)
        sentence = PII_SENTENCES[kind].format(v=value)
        train[i]["text"] = train[i]["text"] + " " + sentence
        truth["pii"].append({"row": i, "kind": kind, "value": value})
    long_rows = take(4)
    for i in long_rows:
        lines = [rnd.choice(LOG_LINES).format(d=rnd.randint(1, 28), m=rnd.randint(0, 59), s=rnd.randint(0, 59),
                                              r=rnd.randint(1, 5)) for _ in range(rnd.randint(30, 45))]
        train[i]["text"] = train[i]["text"] + " Log below:\n" + "\n".join(lines)
        train[i]["label"] = "technical_issue" if train[i]["label"] not in LABELS else train[i]["label"]
        truth["long_rows"].append(i)

    extra: list[tuple[dict, str, object]] = []  # rows appended to train, with what they are
    for src in take(30 * scale):
        text = train[src]["text"]
        variant = rnd.choice([text.upper() if rnd.random() < 0.2 else text.lower(), "  " + text, text + " ",
                              text.replace(" ", "  ", 2), text[0].swapcase() + text[1:]])
        extra.append(({"text": variant, "label": train[src]["label"]}, "exact", src))

    def perturb(text: str, k: int) -> str:
        """A near copy that really differs from its source (a typo can undo itself on a doubled letter)."""
        while True:
            new = _perturb_once(text, k)
            if _shingles(new) != _shingles(text):
                return new

    def _perturb_once(text: str, k: int) -> str:
        ops = rnd.sample(["typo", "greeting", "signoff", "typo2"], k)
        for op in ops:
            if op.startswith("typo"):
                text = typo(text, rnd)
            elif op == "greeting":
                text = rnd.choice(GREETINGS) + ", " + text[0].lower() + text[1:]
            else:
                text = text.rstrip() + " " + rnd.choice(SIGNOFFS) + ", " + rnd.choice(NAMES)
        return text

    for src in take(40 * scale):
        extra.append(({"text": perturb(train[src]["text"], rnd.choice([1, 1, 2])), "label": train[src]["label"]},
                      "near", src))
    for src in take(12 * scale):
        other = rnd.choice([x for x in LABELS if x != train[src]["label"]])
        text = train[src]["text"] if rnd.random() < 0.4 else perturb(train[src]["text"], 1)
        extra.append(({"text": text, "label": other}, "conflict", src))
    leak_src = rnd.sample(range(len(eval_)), 18 * scale)
    for n, e in enumerate(leak_src):
        text = eval_[e]["text"]
        if n % 6 < 3:
            kind, new = "exact", text
        elif n % 6 < 5:
            kind, new = "near", perturb(text, 1)
        else:
            kind, new = "embedded", rnd.choice(["Following up on my earlier message: ", "Forwarding this again. "]) + \
                text + " " + _fill(rnd.choice(EXTRA), rnd) + " " + _fill(rnd.choice(INTENTS[eval_[e]["label"]][1]), rnd)
        extra.append(({"text": new, "label": eval_[e]["label"]}, "leak:" + kind, e))
    bad = [{"text": "   ", "label": "billing"}, {"text": "My invoice is wrong again.", "label": None},
           {"text": "Where is my parcel?"}]

    # Insert the extra rows at random places; then number everything by its final line.
    rows = [(r, "orig", i) for i, r in enumerate(train)] + extra + [(b, "bad", None) for b in bad]
    order = list(range(len(train)))
    rnd.shuffle(order)
    positions = sorted(rnd.sample(range(len(rows)), len(rows) - len(train)))
    final: list = [None] * len(rows)
    rest = iter(range(len(train), len(rows)))
    extra_slots = set(positions)
    it_orig = iter(order)
    for p in range(len(rows)):
        final[p] = rows[next(rest)] if p in extra_slots else rows[next(it_orig)]
    line_of = {}
    for line, (_r, kind, ref) in enumerate(final, start=1):
        if kind == "orig":
            line_of[ref] = line
    for line, (_r, kind, ref) in enumerate(final, start=1):
        if kind == "exact":
            truth["exact_duplicates"].append([line_of[ref], line])
        elif kind == "near":
            truth["near_duplicates"].append([line_of[ref], line])
        elif kind == "conflict":
            truth["conflicts"].append([line_of[ref], line])
        elif kind.startswith("leak:"):
            truth["leaks"].append({"eval_line": ref + 1, "train_line": line, "kind": kind[5:]})
        elif kind == "bad":
            truth["bad_rows"].append(line)
    truth["label_flips"] = sorted(line_of[i] for i in truth["label_flips"])
    truth["long_rows"] = sorted(line_of[i] for i in truth["long_rows"])
    for p in truth["pii"]:
        p["line"] = line_of[p.pop("row")]
    truth["pii"].sort(key=lambda p: p["line"])
    truth["labels"] = LABELS
    truth["seed"] = seed
    return {"train": [r for r, _k, _ref in final], "eval": eval_, "truth": truth}


def to_chat(row: dict) -> dict:
    msgs = [{"role": "system", "content": SYSTEM_PROMPT}]
    if isinstance(row.get("text"), str):
        msgs.append({"role": "user", "content": row["text"]})
    if row.get("label") is not None:
        msgs.append({"role": "assistant", "content": row["label"]})
    return {"messages": msgs}


def write(out: Path, made: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("train", made["train"]), ("eval", made["eval"])):
        (out / f"{name}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        (out / f"{name}_chat.jsonl").write_text("".join(json.dumps(to_chat(r), ensure_ascii=False) + "\n" for r in rows),
                                                encoding="utf-8")
    (out / "truth.json").write_text(json.dumps(made["truth"], indent=1) + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="examples/tickets")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--train-rows", type=int, default=900)
    ap.add_argument("--eval-rows", type=int, default=200)
    ap.add_argument("--fast", action="store_true", help="skip the distinctness check (for large bench sets)")
    args = ap.parse_args()
    made = make(args.seed, args.train_rows, args.eval_rows, args.fast)
    write(Path(args.out), made)
    print(f"wrote {len(made['train'])} train and {len(made['eval'])} eval rows to {args.out}")


if __name__ == "__main__":
    main()
