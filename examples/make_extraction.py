"""Voice requests annotated as {"intent", "slots"} JSON (the shape of SNIPS-style extraction sets) with
planted annotation inconsistencies, for scoring the `annotation_consistency` check: a phrase typed
with another key than its siblings give it (a state as a city), an annotation left out where sibling
requests always have it (the rating in "give 1 star to this album"), a value of only function or
question words ("How"), and encoding damage (U+FFFD). Ground truth in truth.json.

    python examples/make_extraction.py /tmp/extraction --seed 0
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

STATES = ["Oregon", "Ohio", "Texas", "Utah", "Maine", "Iowa", "Nevada", "Alaska", "Georgia", "Vermont"]
CITIES = ["Boston", "Denver", "Austin", "Seattle", "Miami", "Portland", "Chicago", "Dallas", "Phoenix", "Atlanta"]
ARTISTS = ["Adele", "Drake", "Coldplay", "Shakira", "Beyonce", "Muse", "Queen", "Eminem", "Rihanna", "Sting"]
SERVICES = ["Spotify", "Deezer", "Pandora", "YouTube", "Lastfm", "Napster"]
BOOKS = ["this album", "this novel", "the current book", "this essay", "my saga", "this textbook"]
TEMPLATES = {
    "GetWeather": [("what is the weather in {city}", {"city": "{city}"}),
                   ("will it rain in {state} tomorrow", {"state": "{state}", "timeRange": "tomorrow"}),
                   ("forecast for {city} {state}", {"city": "{city}", "state": "{state}"})],
    "BookRestaurant": [("book a table for {n} in {city}", {"party_size_number": "{n}", "city": "{city}"}),
                       ("book a restaurant in {state} for {n} people", {"state": "{state}", "party_size_number": "{n}"})],
    "PlayMusic": [("play {artist} on {service}", {"artist": "{artist}", "service": "{service}"}),
                  ("put on some {artist}", {"artist": "{artist}"})],
    "RateBook": [("give {r} stars to {book}", {"rating_value": "{r}", "object_select": "{book}"}),
                 ("rate {book} {r} out of 6", {"object_select": "{book}", "rating_value": "{r}", "best_rating": "6"})],
}


def _row(rnd: random.Random) -> tuple[str, dict]:
    intent = rnd.choice(sorted(TEMPLATES))
    text, slots = rnd.choice(TEMPLATES[intent])
    fill = {"city": rnd.choice(CITIES), "state": rnd.choice(STATES), "n": str(rnd.randint(2, 12)),
            "artist": rnd.choice(ARTISTS), "service": rnd.choice(SERVICES), "book": rnd.choice(BOOKS),
            "r": str(rnd.randint(1, 6))}
    return text.format(**fill), {"intent": intent, "slots": {k: v.format(**fill) for k, v in slots.items()}}


def make(seed: int = 0, rows: int = 1200, each: int = 10) -> dict:
    rnd = random.Random(seed)
    made = [_row(rnd) for _ in range(rows)]
    truth: dict = {"phrase_typed_differently": [], "missing_annotation": [], "function_word_value": [],
                   "encoding_damage": [], "seed": seed}
    planted: set[int] = set()

    def pick(want) -> int:
        while True:
            i = rnd.randrange(len(made))
            if i not in planted and want(made[i][1]["slots"]):
                planted.add(i)
                return i

    for _ in range(each):   # a state typed as a city
        i = pick(lambda s: "state" in s and "city" not in s)
        s = made[i][1]["slots"]
        s["city"] = s.pop("state")
        truth["phrase_typed_differently"].append(i + 1)
    for _ in range(each):   # the rating left out
        i = pick(lambda s: "rating_value" in s)
        del made[i][1]["slots"]["rating_value"]
        truth["missing_annotation"].append(i + 1)
    for n in range(each // 2):   # a question word as a value: slips, each its own
        i = pick(lambda s: "artist" in s)
        text, ann = made[i]
        word = ("how", "what", "which", "where", "when")[n % 5]
        made[i] = (f"{word} do i " + text, {**ann, "slots": {**ann["slots"], "artist": word}})
        truth["function_word_value"].append(i + 1)
    for _ in range(each // 2):   # encoding damage
        i = pick(lambda s: "artist" in s)
        text, ann = made[i]
        artist = ann["slots"]["artist"]
        damaged = artist[:2] + "\ufffd" + artist[3:]
        made[i] = (text.replace(artist, damaged), {**ann, "slots": {**ann["slots"], "artist": damaged}})
        truth["encoding_damage"].append(i + 1)
    return {"train": [{"prompt": t, "completion": json.dumps(a)} for t, a in made], "truth": truth}


def score(result: dict, truth: dict) -> dict[str, float]:
    """Recall per planted kind, and precision: flagged rows that hold a planted inconsistency."""
    check = next(c for c in result["checks"] if c["check"] == "annotation_consistency")
    flagged: dict[str, set[int]] = {}
    for f in check["findings"]:
        flagged.setdefault(f["kind"], set()).add(f["rows"][0]["line"])
    planted = {line for key, lines in truth.items() if key != "seed" for line in lines}
    every = set().union(*flagged.values()) if flagged else set()
    out = {f"{kind}.recall": len(flagged.get(kind, set()) & set(lines)) / len(lines)
           for kind, lines in truth.items() if kind != "seed"}
    out["recall"] = len(every & planted) / len(planted)
    out["precision"] = len(every & planted) / len(every) if every else 1.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    made = make(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in made["train"]), encoding="utf-8")
    (args.out / "truth.json").write_text(json.dumps(made["truth"], indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
