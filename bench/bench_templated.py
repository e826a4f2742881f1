"""The audit on templated data: a synthetic set where every row is a filled-in template, as many
fine-tuning sets are (an LLM or a script filling slots). 200k short classification rows from 40
templates (4 per intent, 10 intents) with names, cities, products, dates and order numbers as slot
values; an eval set of 2,000 rows from the same templates. Before template families, this shape put
97% of the rows into near-duplicate clusters and called 97.5% of the eval rows leaked.

    python bench/bench_templated.py [--rows 200000]

Prints the audit's wall time, peak memory (RSS of this process), per-check seconds, and what each
check reported; writes bench/RESULTS_templated.md."""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INTENTS = {
    "order_status": ["where is my order {order} that I placed on {date}", "can you track order {order} for {name}",
                     "my {product} from order {order} has not arrived in {city}", "status of order {order} please"],
    "refund": ["I want a refund for the {product} I bought on {date}", "please refund order {order} for {name}",
               "how long does a refund for {product} take to reach {city}", "refund my {product} order {order}"],
    "cancel": ["cancel order {order} before it ships to {city}", "I need to cancel the {product} order for {name}",
               "please cancel my {product} subscription from {date}", "can {name} cancel order {order}"],
    "change_address": ["change the delivery address of order {order} to {city}", "ship my {product} to {city} instead",
                       "{name} moved to {city}, update the address", "update address for order {order} to {city}"],
    "warranty": ["is the {product} still under warranty since {date}", "warranty claim for {product} bought by {name}",
                 "does the warranty of my {product} cover {city} repairs", "how long is the warranty on the {product}"],
    "payment": ["my card was charged twice for order {order}", "payment for the {product} failed on {date}",
                "{name} cannot pay for order {order}", "which payment methods work in {city}"],
    "discount": ["do you have a discount code for the {product}", "my discount was not applied to order {order}",
                 "is there a student discount in {city}", "{name} wants the {product} discount from {date}"],
    "account": ["I cannot log in to the account of {name}", "reset the password for {name}",
                "delete my account created on {date}", "change the email of my account to {name} at mail"],
    "delivery_time": ["how long does delivery to {city} take", "when will the {product} arrive in {city}",
                      "can order {order} arrive before {date}", "is next day delivery to {city} possible for {name}"],
    "complaint": ["the {product} I got on {date} is broken", "{name} is unhappy with the {product}",
                  "order {order} arrived damaged in {city}", "I want to complain about the {product} delivery"],
}
NAMES = [f"{a}{b}" for a in ("Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun") for b in ("", "na", "ko", "ra", "li")]
CITIES = ["Lisbon", "Oslo", "Lima", "Perth", "Quito", "Accra", "Hanoi", "Porto", "Cork", "Bern", "Riga", "Split",
          "Malmo", "Turku", "Graz", "Leeds", "Lyon", "Basel", "Gent", "Bonn", "Pune", "Kobe", "Cusco", "Natal", "Davao"]
PRODUCTS = ["kettle", "blender", "headset", "router", "backpack", "lamp", "monitor", "keyboard", "camera", "drone",
            "toaster", "speaker", "tablet", "charger", "mattress", "heater", "printer", "scanner", "jacket", "watch"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


# The shape of issue 29's report: ten banking intents, short requests from templates with amounts, dates,
# merchants and names, slot values drawn from wide pools (hundreds of merchants and names).
BANKING = {
    "card_payment_declined": ["my card payment of {amount} at {merchant} was declined", "why was my {amount} payment to {merchant} declined on {date}",
                              "{name} tried to pay {merchant} {amount} and it failed", "card declined at {merchant} on {date}"],
    "refund_request": ["I want a refund of {amount} from {merchant}", "please refund the {amount} {merchant} charged on {date}",
                       "{merchant} owes {name} a refund of {amount}", "how do I get my {amount} back from {merchant}"],
    "transfer_missing": ["my transfer of {amount} to {name} has not arrived", "{name} did not get the {amount} I sent on {date}",
                         "where is the {amount} transfer from {date}", "transfer to {name} of {amount} is missing"],
    "top_up_failed": ["my top up of {amount} failed on {date}", "top up of {amount} with my card did not work",
                      "why did the {amount} top up fail", "{name} could not top up {amount}"],
    "exchange_rate": ["what rate did you use for my {amount} payment at {merchant}", "the exchange rate on {date} was wrong",
                      "why was {merchant} charged at a bad rate", "exchange rate for {amount} on {date}"],
    "direct_debit": ["cancel the direct debit to {merchant}", "{merchant} took a direct debit of {amount} on {date}",
                     "set up a direct debit of {amount} for {merchant}", "who is {merchant} taking {amount} from me"],
    "card_lost": ["I lost my card at {merchant} on {date}", "{name} lost the card yesterday near {merchant}",
                  "my card is missing since {date}", "block my card, I lost it at {merchant}"],
    "fee_charged": ["why was I charged a fee of {amount} at {merchant}", "there is a {amount} fee from {date}",
                    "{name} was charged {amount} in fees", "what is the {amount} fee on my statement from {merchant}"],
    "statement": ["send me the statement for {date}", "I need a statement showing the {amount} paid to {merchant}",
                  "{name} needs a bank statement from {date}", "download my statement with the {merchant} payments"],
    "pending_payment": ["my payment of {amount} to {merchant} is still pending", "why is the {merchant} payment pending since {date}",
                        "{amount} pending at {merchant}", "{name} has a pending payment of {amount}"],
}
FIRST = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea", "Mo", "Nia", "Omar",
         "Pia", "Quinn", "Raj", "Sofia", "Tom", "Uma", "Vic", "Wen", "Xia", "Yusuf", "Zoe"]
LAST = ["Silva", "Okafor", "Nguyen", "Smith", "Kowalski", "Haddad", "Ito", "Garcia", "Muller", "Rossi", "Khan", "Berg"]
MERCHANTS = [f"{a}{b}" for a in ("Tesco", "Amazon", "Uber", "Zara", "Lidl", "IKEA", "Boots", "Aldi", "Apple", "Shell",
                                 "Argos", "Primark", "Costa", "Deliveroo", "Netflix", "Spotify", "Ryanair", "Airbnb")
             for b in ("", " Express", " UK", " Online", " Marketplace", " Store", " Metro", " Direct")]


def make_banking(n: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    intents = sorted(BANKING)
    rows = []
    for _ in range(n):
        label = rnd.choice(intents)
        amount = rnd.choice(["£", "€", "$", ""]) + f"{rnd.randint(1, 2500)}" + rnd.choice(["", ".00", f".{rnd.randint(10, 99)}"])
        date = rnd.choice([f"{rnd.randint(1, 28)} {rnd.choice(MONTHS)}", f"{rnd.choice(MONTHS)} {rnd.randint(1, 28)}",
                           "yesterday", "last week", "Monday", "Friday", f"{rnd.randint(1, 28)}/{rnd.randint(1, 12)}"])
        text = rnd.choice(BANKING[label]).format(amount=amount, date=date, merchant=rnd.choice(MERCHANTS),
                                                 name=f"{rnd.choice(FIRST)} {rnd.choice(LAST)}")
        rows.append({"text": text[0].upper() + text[1:], "label": label})
    return rows


def make(n: int, seed: int) -> list[dict]:
    rnd = random.Random(seed)
    intents = sorted(INTENTS)
    rows = []
    for _ in range(n):
        label = rnd.choice(intents)
        text = rnd.choice(INTENTS[label]).format(order=rnd.randint(10000, 99999), date=f"{rnd.choice(MONTHS)} {rnd.randint(1, 28)}",
                                                 name=rnd.choice(NAMES), city=rnd.choice(CITIES), product=rnd.choice(PRODUCTS))
        rows.append({"text": text[0].upper() + text[1:], "label": label})
    return rows


def stage_audit(train: Path, ev: Path) -> dict:
    import harness

    started = time.perf_counter()
    result = harness.audit(str(train), str(ev), None, probes=[])
    wall = time.perf_counter() - started
    checks = []
    for c in result["checks"]:
        figs = {k: c["summary"].get(k) for k in c.get("key_figures", []) if k in c["summary"]}
        if c["summary"].get("applicable") is False:
            figs = {"not applicable": c["summary"].get("reason")}
        checks.append({"check": c["check"], "status": c["status"], "seconds": round(c["seconds"], 1), "figures": figs})
    return {"wall_s": round(wall, 1), "checks": checks}


def stage_datasketch(train: Path, ev: Path) -> dict:
    """What a datasketch user gets on the same rows: MinHash LSH over character 5-grams at Jaccard 0.6,
    every row queried; rows that have a near duplicate, and eval rows with one in train."""
    from datasketch import MinHash, MinHashLSH

    from harness.core.text import normalize_loose

    texts = [normalize_loose(json.loads(line)["text"]) for line in open(train)]
    evals = [normalize_loose(json.loads(line)["text"]) for line in open(ev)]
    started = time.perf_counter()

    def grams(t: str) -> list[bytes]:
        return [t[i:i + 5].encode() for i in range(max(1, len(t) - 4))]

    lsh = MinHashLSH(threshold=0.6, num_perm=128)
    hashes = MinHash.bulk([grams(t) for t in texts], num_perm=128)
    with lsh.insertion_session() as session:
        for i, m in enumerate(hashes):
            session.insert(i, m)
    with_dup = sum(1 for i, m in enumerate(hashes) if len(lsh.query(m)) > 1)
    leaked = sum(1 for m in MinHash.bulk([grams(t) for t in evals], num_perm=128) if lsh.query(m))
    return {"wall_s": round(time.perf_counter() - started, 1), "train_rows_with_a_near_duplicate": with_dup,
            "train_share": round(with_dup / len(texts), 3), "eval_rows_flagged": leaked,
            "eval_share": round(leaked / len(evals), 3)}


def stage_rensa(train: Path, ev: Path) -> dict:
    """rensa's MinHash LSH (Rust) on the same rows: char 5-grams at 0.6, every row queried."""
    from rensa import RMinHash, RMinHashLSH

    from harness.core.text import normalize_loose

    texts = [normalize_loose(json.loads(line)["text"]) for line in open(train)]
    evals = [normalize_loose(json.loads(line)["text"]) for line in open(ev)]
    started = time.perf_counter()

    def sig(t: str):
        m = RMinHash(num_perm=128, seed=42)
        m.update([t[i:i + 5] for i in range(max(1, len(t) - 4))])
        return m

    lsh = RMinHashLSH(threshold=0.6, num_perm=128, num_bands=32)
    hashes = [sig(t) for t in texts]
    for i, m in enumerate(hashes):
        lsh.insert(i, m)
    with_dup = sum(1 for m in hashes if len(lsh.query(m)) > 1)
    leaked = sum(1 for t in evals if lsh.query(sig(t)))
    return {"wall_s": round(time.perf_counter() - started, 1), "train_rows_with_a_near_duplicate": with_dup,
            "train_share": round(with_dup / len(texts), 3), "eval_rows_flagged": leaked,
            "eval_share": round(leaked / len(evals), 3)}


def cpu_name() -> str:
    """The CPU model, so that timings from different machines are not compared as if alike."""
    try:
        return next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"


STAGES = {"audit": stage_audit, "datasketch": stage_datasketch, "rensa": stage_rensa}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--eval-rows", type=int, default=2_000)
    ap.add_argument("--style", choices=["orders", "banking"], default="orders",
                    help="orders: 40 order-desk templates; banking: issue 29's shape (amounts, dates, merchants, names)")
    ap.add_argument("--stage", choices=list(STAGES))
    ap.add_argument("--data", type=Path)
    args = ap.parse_args(argv)
    if args.stage:  # child process: one measurement, one JSON line, its own peak memory
        out = STAGES[args.stage](args.data / "train.jsonl", args.data / "eval.jsonl")
        out["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024, 2)
        print(json.dumps(out))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        maker = make_banking if args.style == "banking" else make
        Path(tmp, "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in maker(args.rows, 0)))
        Path(tmp, "eval.jsonl").write_text("".join(json.dumps(r) + "\n" for r in maker(args.eval_rows, 1)))
        got = {}
        for name in STAGES:  # one at a time: two processes on 2 cores would slow each other
            proc = subprocess.run([sys.executable, __file__, "--stage", name, "--data", tmp], capture_output=True, text=True)
            got[name] = (json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0
                         else {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]})
    a, d = got["audit"], got["datasketch"]
    lines = [f"# The audit on templated data ({args.rows:,} train rows, {args.eval_rows:,} eval rows, {args.style} templates)", "",
             f"`python bench/bench_templated.py --rows {args.rows} --eval-rows {args.eval_rows} --style {args.style}` on {os.cpu_count()} cores ({cpu_name()}), "
             f"{time.strftime('%Y-%m-%d')}; each tool in its own process."
             + (f" datasketch / harness wall time: {d['wall_s'] / a['wall_s']:.1f}x." if "error" not in a and "error" not in d else ""), "",
             "| tool | wall s | peak RSS GB | what it reports |", "|---|---:|---:|---|"]
    if "error" not in a:
        fam = next((c["figures"] for c in a["checks"] if c["check"] == "template_families"), {})
        near = next((c["figures"] for c in a["checks"] if c["check"] == "near_duplicates"), {})
        leak = next((c["figures"] for c in a["checks"] if c["check"] == "leakage"), {})
        lines.append(f"| finetune-harness, whole audit | {a['wall_s']} | {a['peak_rss_gb']} | template families {fam}; "
                     f"near duplicates {near}; leakage {leak} |")
    else:
        lines.append(f"| finetune-harness | error: {a['error']} | | |")
    for name, d in (("datasketch MinHashLSH", got["datasketch"]), ("rensa RMinHashLSH", got["rensa"])):
        if "error" not in d:
            lines.append(f"| {name} (char 5-grams, 0.6), near duplicates only | {d['wall_s']} | {d['peak_rss_gb']} | "
                         f"{d['train_rows_with_a_near_duplicate']:,} train rows ({d['train_share']:.0%}) with a near duplicate; "
                         f"{d['eval_rows_flagged']:,} eval rows ({d['eval_share']:.0%}) with one in train |")
        else:
            lines.append(f"| {name} | error: {d['error']} | | |")
    if "error" not in a and "error" not in got["rensa"]:
        lines += ["", f"harness / rensa wall time: {a['wall_s'] / max(got['rensa']['wall_s'], 0.1):.1f}x (rensa finds "
                  "candidate pairs only; the audit is every check, the near-duplicate decision word by word included)."]
    if "error" not in a:
        lines += ["", "Per check (finetune-harness):", "", "| check | status | seconds | key figures |", "|---|---|---:|---|"]
        lines += [f"| {c['check']} | {c['status']} | {c['seconds']} | {c['figures']} |" for c in a["checks"]]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.rows == 200_000:
        name = "RESULTS_templated.md" if args.style == "orders" else f"RESULTS_templated_{args.style}.md"
        (Path(__file__).parent / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
