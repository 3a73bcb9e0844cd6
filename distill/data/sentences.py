"""English sentences for the synthetic corpus: a seeded generator that ships with fitedge, or the user's text.

The generator fills a dozen sentence shapes (statements, questions, requests, counts, times) from word lists
written here: about 800 words with their inflections and spelled-out numbers, so millions of different
sentences exist and a probe cannot memorise them. The words were chosen to cover English's phonemes in
many contexts. ``read_sentences`` takes a user's file instead: one sentence per line, or the CMU ARCTIC
``( arctic_a0001 "text" )`` format.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path

from fitedge.errors import DataError

NOUNS = """
apple bag ball bank basket bell bicycle bird blanket boat book bottle box bread bridge brush bucket cabin cake
camera candle car carpet castle cat chair cheese chicken church clock cloud coat coin computer cookie cottage
cup curtain desk doctor dog door dragon drum engine farmer feather fence field finger flower forest fork fox
garden gate girl glove goat guitar hammer hat hill horse island jacket jar kettle key kitchen kitten ladder lamp
lawyer leaf letter lion machine map market mirror monkey motor mountain mouse needle nurse ocean orange oven
painter paper parrot pencil penny picture pillow pilot pipe planet pocket poem potato puzzle queen rabbit radio
river robot rocket roof sailor sandwich school scientist shadow sheep shell ship shoe singer soldier spider
spoon station stone storm student sugar table teacher telephone theatre thunder ticket tiger tower towel train
tree truck tunnel umbrella valley village violin wagon wallet window wizard wolf yard zebra treasure television
garage vision toy oyster voice boy hook cushion pudding
""".split()
IRREGULAR_PLURALS = {"child": "children", "man": "men", "woman": "women", "foot": "feet", "tooth": "teeth",
                     "goose": "geese", "mouse": "mice", "sheep": "sheep", "leaf": "leaves", "wolf": "wolves",
                     "knife": "knives", "shelf": "shelves", "potato": "potatoes"}
NOUNS += ["child", "man", "woman", "goose", "knife", "shelf"]
ADJECTIVES = """
ancient angry big bitter black blue brave bright broken busy calm careful cheap clean clever cold crooked
curious damp dark dirty dusty eager early empty enormous fancy fresh friendly frozen gentle giant golden green
grey happy heavy hollow honest huge hungry icy jolly large lazy little lonely loud lucky modern muddy narrow
nervous new noisy odd old orange pale perfect pink plain polite poor proud purple quick quiet rapid red rich
rough round rusty sad safe sharp shiny short silent silly slow small smooth soft sour spare strange strong
sweet tall tame thick thin tiny tired ugly warm wet white wide wild wise wooden yellow young usual casual royal
loyal moist visual
""".split()
# base form, past tense
TRANSITIVE = [tuple(p.split("/")) for p in """
bring/brought build/built buy/bought carry/carried catch/caught change/changed choose/chose clean/cleaned
climb/climbed collect/collected cook/cooked count/counted cover/covered draw/drew drop/dropped fix/fixed
find/found follow/followed grab/grabbed hide/hid hold/held keep/kept kick/kicked lift/lifted like/liked
lose/lost measure/measured mend/mended move/moved open/opened paint/painted pass/passed pick/picked
polish/polished pull/pulled push/pushed question/questioned reach/reached read/read remember/remembered
repair/repaired sell/sold send/sent share/shared shake/shook show/showed steal/stole sweep/swept take/took
throw/threw touch/touched visit/visited wash/washed watch/watched weigh/weighed wrap/wrapped enjoy/enjoyed
destroy/destroyed avoid/avoided annoy/annoyed
""".split()]
INTRANSITIVE = [tuple(p.split("/")) for p in """
arrive/arrived begin/began breathe/breathed crawl/crawled cry/cried dance/danced disappear/disappeared
dive/dove fall/fell fly/flew freeze/froze glow/glowed jump/jumped laugh/laughed listen/listened rest/rested
rise/rose roar/roared run/ran shiver/shivered sing/sang sink/sank sleep/slept smile/smiled sneeze/sneezed
swim/swam tremble/trembled vanish/vanished wait/waited wander/wandered whisper/whispered yawn/yawned
""".split()]
ADVERBS = """
quickly slowly quietly loudly happily sadly carefully suddenly gently eagerly proudly badly boldly calmly
nervously politely rarely smoothly softly warmly wisely yesterday again anyway outside downstairs
""".split()
NAMES = """
Alice Arthur Benjamin Bruno Charlotte Daisy Daniel Edgar Emma Fiona George Grace Harold Helen Isaac Ivy Jack
Julia Kevin Laura Leo Lucy Martin Maya Nathan Nora Oliver Olivia Patrick Paula Quentin Rachel Ruth Samuel
Sophie Thomas Ursula Victor Violet Walter Wendy Xavier Yusuf Zoe
""".split()
PREPOSITIONS = "above across after against along behind below beneath beside between beyond by inside near " \
    "over past through toward under with without".split()
TIMES = """
today|tonight|this morning|this evening|last night|last winter|next summer|on Monday|on Tuesday|on Wednesday|
on Thursday|on Friday|on Saturday|on Sunday|in April|in August|in December|at midnight|before breakfast|
after lunch|at dawn|every weekend|once a year
""".replace("\n", "").split("|")
VERBS_OF_SAYING = "said thought knew heard guessed noticed explained believed".split()
UNITS = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen " \
    "seventeen eighteen nineteen".split()
TENS = "twenty thirty forty fifty sixty seventy eighty ninety".split()


def spell_number(n: int) -> str:
    """``n`` (0-9999) in words, as a reader would say it: 1984 -> "nineteen eighty four"."""
    if n < 20:
        return UNITS[n]
    if n < 100:
        return TENS[n // 10 - 2] + ("" if n % 10 == 0 else " " + UNITS[n % 10])
    if n < 1000:
        rest = n % 100
        return UNITS[n // 100] + " hundred" + ("" if rest == 0 else " and " + spell_number(rest))
    if n % 100 < 10 or n // 100 % 10 == 0:
        return spell_number(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + spell_number(n % 1000))
    return spell_number(n // 100) + " " + spell_number(n % 100)


def plural(noun: str) -> str:
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if re.search(r"(s|x|z|ch|sh)$", noun):
        return noun + "es"
    if re.search(r"[^aeiou]y$", noun):
        return noun[:-1] + "ies"
    return noun + "s"


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


# Sentence shapes; each {slot} is filled with a fresh random pick (see _Filler).
SHAPES = (
    "{np} {vt_past} {np} {prep} {np}",
    "{np} {vi_past} {adv} {prep} {np}",
    "{name} {vt_past} {np} {time}",
    "did {name} {vt} {np} {time}?",
    "why did {np} {vi} so {adv}?",
    "please {vt} {np} {time}",
    "there were {count} {adj} {nouns} {prep} the {noun}",
    "{name} {say} that {np} was {adj}",
    "after {np} {vi_past}, {name} {vt_past} {np}",
    "how many {nouns} can {name} {vt} in {count} {unit}?",
    "at {clock} {np} {vi_past} {adv}",
    "we can {vt} {count} {nouns} if {np} is {adj} enough",
)
SLOT = re.compile(r"\{(\w+)\}")


class _Filler:
    """Random words for the slots of a sentence shape."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        pick = rng.choice
        self.slots: dict[str, Callable[[], str]] = {
            "np": self.noun_phrase, "noun": lambda: pick(NOUNS), "nouns": lambda: plural(pick(NOUNS)),
            "adj": lambda: pick(ADJECTIVES), "adv": lambda: pick(ADVERBS), "name": lambda: pick(NAMES),
            "prep": lambda: pick(PREPOSITIONS), "time": lambda: pick(TIMES), "say": lambda: pick(VERBS_OF_SAYING),
            "vt": lambda: pick(TRANSITIVE)[0], "vt_past": lambda: pick(TRANSITIVE)[1],
            "vi": lambda: pick(INTRANSITIVE)[0], "vi_past": lambda: pick(INTRANSITIVE)[1],
            "count": self.count, "clock": self.clock, "unit": lambda: pick(["seconds", "minutes", "hours", "days"]),
        }

    def fill(self, shape: str) -> str:
        return SLOT.sub(lambda m: self.slots[m.group(1)](), shape)

    def noun_phrase(self) -> str:
        noun = self.rng.choice(NOUNS)
        roll = self.rng.random()
        if roll < 0.35:
            return "the " + self.rng.choice(ADJECTIVES) + " " + noun
        if roll < 0.55:
            return _a(self.rng.choice(ADJECTIVES) + " " + noun)
        if roll < 0.7:
            return self.rng.choice(NAMES) + "'s " + noun
        return ("the " if roll < 0.9 else "my ") + noun

    def count(self) -> str:
        rng = self.rng
        return spell_number(rng.choice([rng.randint(2, 20), rng.randint(21, 999), rng.randint(1000, 2099)]))

    def clock(self) -> str:
        hour, minute = self.rng.randint(1, 12), self.rng.choice([0, 15, 30, 45, self.rng.randint(1, 59)])
        return spell_number(hour) + (" o'clock" if minute == 0 else " " + spell_number(minute))


def generate_sentences(count: int, seed: int = 0) -> list[str]:
    """``count`` different sentences, the same ones for the same seed."""
    rng = random.Random(seed)
    filler = _Filler(rng)
    sentences: dict[str, None] = {}
    while len(sentences) < count:
        text = filler.fill(rng.choice(SHAPES))
        text = text[0].upper() + text[1:]
        sentences.setdefault(text if text.endswith("?") else text + ".")
    return list(sentences)


ARCTIC_LINE = re.compile(r'^\(\s*\S+\s+"(.*)"\s*\)\s*$')


def read_sentences(path: str | Path) -> list[str]:
    """Sentences from a text file: one per line, or CMU ARCTIC ``( id "text" )`` lines."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"{path}: cannot read text ({e})") from None
    sentences = []
    for line in lines:
        match = ARCTIC_LINE.match(line)
        text = (match.group(1) if match else line).strip()
        if text:
            sentences.append(text)
    if not sentences:
        raise DataError(f"{path}: no sentences in the file")
    return sentences
