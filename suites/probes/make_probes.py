"""Writes the forgetting probe sets (suites/probes/*.jsonl) from the tables below; deterministic.

Written for this project (no third-party benchmark text is copied): short multiple-choice items in five
abilities a general model has and a narrow fine-tune can lose. Each item: id, capability, context (the
text before the answer), choices (scored as " " + choice after the context, the lm-evaluation-harness
convention) and answer (the index of the right choice). Run: python suites/probes/make_probes.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent

CAPITALS = [
    ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Japan", "Tokyo"),
    ("China", "Beijing"), ("Russia", "Moscow"), ("the United Kingdom", "London"), ("Egypt", "Cairo"),
    ("Canada", "Ottawa"), ("Australia", "Canberra"), ("India", "New Delhi"), ("Greece", "Athens"),
    ("Portugal", "Lisbon"), ("Ireland", "Dublin"), ("Norway", "Oslo"), ("Sweden", "Stockholm"),
    ("Finland", "Helsinki"), ("Denmark", "Copenhagen"), ("Poland", "Warsaw"), ("Austria", "Vienna"),
    ("Hungary", "Budapest"), ("the Czech Republic", "Prague"), ("the Netherlands", "Amsterdam"),
    ("Belgium", "Brussels"), ("Switzerland", "Bern"), ("Turkey", "Ankara"), ("Argentina", "Buenos Aires"),
    ("Peru", "Lima"), ("Chile", "Santiago"), ("Colombia", "Bogota"), ("Mexico", "Mexico City"),
    ("Cuba", "Havana"), ("Kenya", "Nairobi"), ("South Korea", "Seoul"), ("Thailand", "Bangkok"),
    ("Vietnam", "Hanoi"), ("Indonesia", "Jakarta"), ("the Philippines", "Manila"), ("Iran", "Tehran"),
    ("Iraq", "Baghdad"), ("Saudi Arabia", "Riyadh"), ("Ukraine", "Kyiv"), ("Romania", "Bucharest"),
    ("Bulgaria", "Sofia"), ("Serbia", "Belgrade"), ("Croatia", "Zagreb"), ("Iceland", "Reykjavik"),
    ("Scotland", "Edinburgh"), ("Wales", "Cardiff"), ("Morocco", "Rabat"), ("Nigeria", "Abuja"),
    ("Ethiopia", "Addis Ababa"), ("Pakistan", "Islamabad"), ("Afghanistan", "Kabul"), ("Nepal", "Kathmandu"),
    ("Venezuela", "Caracas"), ("Uruguay", "Montevideo"), ("New Zealand", "Wellington"), ("Israel", "Jerusalem"),
]

FACTS = [
    ("What is the chemical symbol for gold?", "Au", ["Ag", "Fe", "Pb"]),
    ("What is the chemical symbol for iron?", "Fe", ["Ir", "In", "Au"]),
    ("What is the chemical symbol for sodium?", "Na", ["So", "Sd", "K"]),
    ("What is the chemical symbol for oxygen?", "O", ["Ox", "H", "N"]),
    ("What is the largest planet in our solar system?", "Jupiter", ["Mars", "Mercury", "Venus"]),
    ("Which planet is known as the Red Planet?", "Mars", ["Venus", "Jupiter", "Saturn"]),
    ("Which planet is closest to the Sun?", "Mercury", ["Neptune", "Saturn", "Jupiter"]),
    ("What is the largest ocean on Earth?", "the Pacific Ocean", ["the Arctic Ocean", "the Indian Ocean", "the Southern Ocean"]),
    ("What is the longest river in Africa?", "the Nile", ["the Thames", "the Seine", "the Danube"]),
    ("Who wrote Romeo and Juliet?", "William Shakespeare", ["Charles Dickens", "Mark Twain", "Jane Austen"]),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci", ["Pablo Picasso", "Vincent van Gogh", "Claude Monet"]),
    ("Who developed the theory of relativity?", "Albert Einstein", ["Isaac Newton", "Charles Darwin", "Galileo Galilei"]),
    ("Who proposed the theory of evolution by natural selection?", "Charles Darwin", ["Albert Einstein", "Isaac Newton", "Louis Pasteur"]),
    ("Who was the first person to walk on the Moon?", "Neil Armstrong", ["Yuri Gagarin", "Buzz Lightyear", "Christopher Columbus"]),
    ("What gas do plants absorb from the air for photosynthesis?", "carbon dioxide", ["helium", "neon", "argon"]),
    ("What is the boiling point of water at sea level in degrees Celsius?", "100", ["50", "0", "300"]),
    ("What is the freezing point of water in degrees Celsius?", "0", ["100", "50", "-40"]),
    ("How many days are there in a week?", "seven", ["five", "ten", "twelve"]),
    ("How many continents are there on Earth?", "seven", ["three", "twelve", "twenty"]),
    ("How many legs does a spider have?", "eight", ["six", "four", "ten"]),
    ("How many legs does an insect have?", "six", ["eight", "four", "ten"]),
    ("What is the hardest natural substance?", "diamond", ["gold", "wood", "glass"]),
    ("What is the largest mammal?", "the blue whale", ["the elephant", "the giraffe", "the mouse"]),
    ("What is the tallest animal?", "the giraffe", ["the cat", "the pig", "the rabbit"]),
    ("What is the fastest land animal?", "the cheetah", ["the turtle", "the snail", "the cow"]),
    ("Which animal is known as the king of the jungle?", "the lion", ["the mouse", "the sheep", "the frog"]),
    ("What do bees make?", "honey", ["milk", "silk", "wool"]),
    ("Which organ pumps blood through the body?", "the heart", ["the lungs", "the stomach", "the skin"]),
    ("Which organ do humans use to breathe?", "the lungs", ["the heart", "the liver", "the kidneys"]),
    ("How many bones are in the adult human body?", "206", ["12", "1000", "50"]),
    ("What is the main language spoken in Brazil?", "Portuguese", ["Spanish", "French", "German"]),
    ("What is the main language spoken in Mexico?", "Spanish", ["Portuguese", "Japanese", "Russian"]),
    ("What currency is used in Japan?", "the yen", ["the euro", "the dollar", "the rupee"]),
    ("What currency is used in the United Kingdom?", "the pound", ["the yen", "the peso", "the rupee"]),
    ("In which country are the pyramids of Giza?", "Egypt", ["Mexico", "Sweden", "Canada"]),
    ("In which city is the Eiffel Tower?", "Paris", ["London", "Rome", "Berlin"]),
    ("In which city is the Colosseum?", "Rome", ["Paris", "Madrid", "Vienna"]),
    ("In which country is the Great Wall?", "China", ["Brazil", "Italy", "Kenya"]),
    ("What is the largest country by area?", "Russia", ["Belgium", "Portugal", "Cuba"]),
    ("What is the largest desert in Africa?", "the Sahara", ["the Gobi", "the Atacama", "the Arctic"]),
    ("What is the highest mountain on Earth?", "Mount Everest", ["Mount Fuji", "Ben Nevis", "Mont Blanc"]),
    ("What is the closest star to Earth?", "the Sun", ["Sirius", "Polaris", "Betelgeuse"]),
    ("What is the natural satellite of the Earth called?", "the Moon", ["the Sun", "Mars", "Venus"]),
    ("What do caterpillars turn into?", "butterflies", ["frogs", "birds", "fish"]),
    ("What do tadpoles grow into?", "frogs", ["butterflies", "snakes", "birds"]),
    ("Which instrument has 88 keys?", "the piano", ["the violin", "the flute", "the drum"]),
    ("What is frozen water called?", "ice", ["steam", "sand", "oil"]),
    ("Which metal is liquid at room temperature?", "mercury", ["iron", "copper", "aluminium"]),
    ("What is the primary language of Germany?", "German", ["Italian", "Chinese", "Arabic"]),
    ("Which sense do we use our ears for?", "hearing", ["smell", "taste", "sight"]),
    ("What colour do you get by mixing blue and yellow?", "green", ["purple", "orange", "pink"]),
    ("What colour do you get by mixing red and white?", "pink", ["green", "blue", "black"]),
]

NUMBER_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve"]

USES = [
    ("cut paper", "scissors", "tool"), ("write on paper", "a pen", "tool"), ("hammer a nail", "a hammer", "tool"),
    ("tell the time", "a clock", "tool"), ("unlock a door", "a key", "tool"), ("sweep the floor", "a broom", "tool"),
    ("brush your teeth", "a toothbrush", "tool"), ("comb your hair", "a comb", "tool"), ("eat soup", "a spoon", "tool"),
    ("dry yourself after a shower", "a towel", "tool"), ("see in the dark", "a flashlight", "tool"),
    ("boil water", "a kettle", "tool"), ("keep dry in the rain", "an umbrella", "tool"),
    ("take a photograph", "a camera", "tool"), ("dig a hole in the garden", "a shovel", "tool"),
    ("measure length", "a ruler", "tool"), ("tighten a screw", "a screwdriver", "tool"),
    ("carry books to school", "a backpack", "tool"), ("call a friend far away", "a telephone", "tool"),
    ("erase pencil marks", "an eraser", "tool"),
]
PLACES = [
    ("ice cream so that it stays frozen", "in the freezer"), ("a car when you are not driving it", "in the garage"),
    ("clean dishes", "in the cupboard"), ("clothes you are not wearing", "in the wardrobe"),
    ("books at a library", "on the shelves"), ("fresh milk", "in the fridge"),
    ("money in a bank", "in a vault"), ("a letter before it is posted", "in an envelope"),
    ("fish in a pet shop", "in a tank"), ("a bird kept as a pet", "in a cage"),
]
PLACE_DISTRACTORS = ["in the oven", "on the roof", "in the bathtub", "under the sea", "in the fireplace",
                     "in the mailbox", "on the highway"]
SIZES = ["an ant", "a coin", "a mouse", "a cat", "a dog", "a person", "a horse", "a car", "an elephant",
         "a house", "a whale", "a mountain"]
CAUSES = [
    ("If you drop a glass on a stone floor, what will probably happen?", "It will break.", ["It will grow.", "It will float up.", "It will sing."]),
    ("If you leave ice in the sun, what happens to it?", "It melts.", ["It gets colder.", "It turns into wood.", "It grows bigger."]),
    ("What happens to a plant that gets no water for a month?", "It dries out and dies.", ["It grows faster.", "It turns blue.", "It starts to walk."]),
    ("If it is raining and you go outside without an umbrella, what happens?", "You get wet.", ["You get taller.", "You become dry.", "You fall asleep."]),
    ("What do people usually do when they are tired at night?", "They go to sleep.", ["They climb a tree.", "They eat sand.", "They paint the ceiling."]),
    ("What do you need to do before you can eat a banana?", "Peel it.", ["Freeze it.", "Bury it.", "Paint it."]),
    ("What happens if you put too much air into a balloon?", "It pops.", ["It turns into water.", "It gets heavier than a car.", "It becomes a bird."]),
    ("Why do people wear coats in winter?", "To stay warm.", ["To stay wet.", "To feel hotter in summer.", "To swim faster."]),
    ("Where does the sun rise?", "In the east.", ["In the west.", "Under the ground.", "In the kitchen."]),
    ("What do you do when you are thirsty?", "Drink water.", ["Eat salt.", "Run a marathon.", "Read a book."]),
]

FIRST = ["Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kira", "Leo",
         "Maya", "Nils", "Olga", "Pedro"]
CITIES = ["Lisbon", "Oslo", "Nairobi", "Toronto", "Madrid", "Sydney", "Seoul", "Dublin", "Vienna", "Lima"]
JOBS = ["teacher", "nurse", "baker", "pilot", "farmer", "doctor", "painter", "carpenter", "lawyer", "chef"]
HOBBIES = [("play chess", "chess"), ("go fishing", "fishing"), ("ride a bicycle", "cycling"),
           ("play the guitar", "the guitar"), ("bake bread", "baking"), ("go hiking", "hiking"),
           ("swim in the lake", "swimming"), ("read novels", "reading")]
PETS = ["a dog", "a cat", "a parrot", "a rabbit", "a turtle", "a goldfish"]
COLOURS = ["red", "blue", "green", "yellow", "black", "white"]

WORDS = ["apple", "river", "garden", "window", "pencil", "orange", "silver", "forest", "planet", "candle",
         "bridge", "rabbit", "yellow", "castle", "dragon", "summer", "winter", "guitar", "jacket", "market",
         "pepper", "rocket", "shadow", "ticket", "violet", "wallet", "button", "carpet", "doctor", "island"]
PHRASES = ["the blue car", "a quiet morning", "seven green bottles", "the old bridge", "my red umbrella",
           "a cup of tea", "the small village", "two white horses", "the open window", "a long journey",
           "the cold river", "three brown dogs", "an empty room", "the tall tree", "a bright star",
           "the last train", "a warm coat", "the wooden table", "five yellow birds", "the quiet library"]


def item(probe: str, i: int, context: str, answer: str, distractors: list[str], rng: random.Random) -> dict:
    choices = [answer] + [d for d in distractors if d != answer][:3]
    rng.shuffle(choices)
    return {"id": f"{probe}-{i:03d}", "capability": probe, "context": context, "choices": choices,
            "answer": choices.index(answer)}


def knowledge(rng: random.Random) -> list[dict]:
    out = []
    capitals = [c for _, c in CAPITALS]
    for country, capital in CAPITALS:
        out.append(item("knowledge", len(out), f"Question: What is the capital of {country}?\nAnswer:", capital,
                        rng.sample([c for c in capitals if c != capital], 3), rng))
    for q, a, d in FACTS:
        out.append(item("knowledge", len(out), f"Question: {q}\nAnswer:", a, d, rng))
    return out


def arithmetic(rng: random.Random) -> list[dict]:
    out = []
    while len(out) < 120:
        a, b = rng.randint(2, 20), rng.randint(2, 20)
        op = rng.choice(["plus", "minus", "times"])
        if op == "minus" and b > a:
            a, b = b, a
        value = {"plus": a + b, "minus": a - b, "times": a * b}[op]
        if op == "times" and (a > 12 or b > 12):
            continue
        wrong = set()
        while len(wrong) < 3:
            w = value + rng.choice([-10, -3, -2, -1, 1, 2, 3, 10]) * rng.randint(1, 2)
            if w >= 0 and w != value:
                wrong.add(w)
        out.append(item("arithmetic", len(out), f"Question: What is {a} {op} {b}?\nAnswer:", str(value),
                        [str(w) for w in sorted(wrong)], rng))
    return out


def commonsense(rng: random.Random) -> list[dict]:
    out = []
    tools = [t for _, t, _ in USES]
    for purpose, tool, _ in USES:
        out.append(item("commonsense", len(out), f"Question: What would you use to {purpose}?\nAnswer:", tool,
                        rng.sample([t for t in tools if t != tool], 3), rng))
    for thing, place in PLACES:
        out.append(item("commonsense", len(out), f"Question: Where do you usually keep {thing}?\nAnswer:", place,
                        rng.sample(PLACE_DISTRACTORS, 3), rng))
    for q, a, d in CAUSES:
        out.append(item("commonsense", len(out), f"Question: {q}\nAnswer:", a, d, rng))
    pairs = [(i, j) for i in range(len(SIZES)) for j in range(len(SIZES)) if j - i >= 4]
    for i, j in pairs:
        small, big = SIZES[i], SIZES[j]
        first, second = (small, big) if rng.random() < 0.5 else (big, small)
        out.append(item("commonsense", len(out), f"Question: Which is bigger, {first} or {second}?\nAnswer:", big,
                        [small], rng))
        first, second = (small, big) if rng.random() < 0.5 else (big, small)
        out.append(item("commonsense", len(out), f"Question: Which is smaller, {first} or {second}?\nAnswer:", small,
                        [big], rng))
    return out


def reading(rng: random.Random) -> list[dict]:
    out = []
    for n in range(120):
        name, friend = rng.sample(FIRST, 2)
        city, job = rng.choice(CITIES), rng.choice(JOBS)
        (hobby_verb, _hobby), pet, colour = rng.choice(HOBBIES), rng.choice(PETS), rng.choice(COLOURS)
        passage = (f"{name} lives in {city} and works as a {job}. On weekends {name} likes to {hobby_verb} "
                   f"with {friend}. {name} has {pet} and drives a {colour} car.")
        kind = n % 5
        if kind == 0:
            q, a, pool = f"What does {name} work as?", f"a {job}", [f"a {j}" for j in JOBS]
        elif kind == 1:
            q, a, pool = f"Where does {name} live?", f"in {city}", [f"in {c}" for c in CITIES]
        elif kind == 2:
            q, a, pool = f"What colour is {name}'s car?", colour, COLOURS
        elif kind == 3:
            q, a, pool = f"What pet does {name} have?", pet, PETS
        else:
            q, a, pool = f"Who does {name} spend weekends with?", friend, [f for f in FIRST if f != name]
        out.append(item("reading", len(out), f"{passage}\nQuestion: {q}\nAnswer:", a,
                        rng.sample([p for p in pool if p != a], 3), rng))
    return out


def instructions(rng: random.Random) -> list[dict]:
    out = []
    for w in WORDS:
        out.append(item("instructions", len(out), f"Write the word \"{w}\" in capital letters.\nAnswer:", w.upper(),
                        [w, w.capitalize(), rng.choice([x for x in WORDS if x != w]).upper()], rng))
    for p in PHRASES:
        words = p.split()
        swapped = " ".join(words[::-1])
        other = rng.choice([x for x in PHRASES if x != p])
        out.append(item("instructions", len(out), f"Repeat exactly: {p}\nAnswer:", p, [swapped, other, p.upper()], rng))
    for k, word in enumerate(NUMBER_WORDS[1:], start=1):
        out.append(item("instructions", len(out), f"Write the number {word} as digits.\nAnswer:", str(k),
                        [str(k + 1), str(k * 10), word], rng))
    for w in WORDS[:20]:
        out.append(item("instructions", len(out), f"What is the first letter of the word \"{w}\"?\nAnswer:", w[0],
                        rng.sample([c for c in "abcdefghijklmnopqrstuvwxyz" if c != w[0]], 3), rng))
    for w in WORDS[10:30]:
        out.append(item("instructions", len(out), f"Answer with only yes or no: does the word \"{w}\" start with "
                        f"the letter {w[0]}?\nAnswer:", "yes", ["no"], rng))
    return out


def main() -> None:
    for name, make in [("knowledge", knowledge), ("arithmetic", arithmetic), ("commonsense", commonsense),
                       ("reading", reading), ("instructions", instructions)]:
        items = make(random.Random(f"probe-{name}"))
        text = "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items)
        (HERE / f"{name}.jsonl").write_text(text, encoding="utf-8")
        print(f"{name}: {len(items)} items")


if __name__ == "__main__":
    main()
