"""``fitedge data synth``: a multi-voice English speech corpus made offline with espeak-ng.

Every utterance is one sentence spoken by one voice (an espeak-ng language voice plus a variant such as
``en-us+f3``) at its own speaking rate and pitch, optionally with coloured noise and sox reverb, resampled
from espeak's 22,050 Hz to 16 kHz with soxr. Its labels are the text and the ARPAbet phones of espeak-ng's
own phonemizer in the speaking voice (see :mod:`fitedge.distill.data.phonemes`). Splits are by voice: valid and
test voices are never heard in training. Everything random is drawn from ``(seed, split, index)``, so the
same seed gives the same corpus whatever the number of worker processes.
"""

from __future__ import annotations

import logging
import multiprocessing
import subprocess
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import count, cycle
from pathlib import Path

import numpy as np

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.data import espeak
from fitedge.distill.data.audio import resample, write_audio
from fitedge.distill.data.corpus import SPLITS, Utterance, building, write_inventory_and_info, write_split
from fitedge.distill.data.phonemes import ARPABET, ipa_to_arpabet
from fitedge.distill.data.sentences import generate_sentences, read_sentences
from fitedge.errors import DataError

log = logging.getLogger(__name__)

# Four accents, male, female and Klatt-synthesised variants: 16 voices, of which 2 go to valid and 2 to test.
DEFAULT_VOICES = (
    "en-us+m1", "en-us+m3", "en-us+m7", "en-us+f1", "en-us+f3", "en-us+f4", "en-us+klatt", "en-us+klatt3",
    "en-gb+m2", "en-gb+f2", "en-gb-x-rp+m4", "en-gb-x-rp+f5", "en-gb-scotland+m5", "en-gb-scotland+f1",
    "en-029+m6", "en-029+f2",
)
SPLIT_SHARE = {"train": 0.8, "valid": 0.1, "test": 0.1}
NOISES = ("white", "pink", "brown")


@dataclass(frozen=True)
class SynthConfig:
    """What ``fitedge data synth`` makes; stored in ``corpus.json``."""

    minutes: float = 10.0
    seed: int = 0
    test_minutes: float | None = None  # the test split's audio on its own (None: its 10% share of minutes)
    voices: tuple[str, ...] = DEFAULT_VOICES
    valid_voices: int = 2
    test_voices: int = 2
    noise: bool = True
    noise_share: float = 0.4  # share of utterances with added noise (SNR 10-30 dB)
    reverb_share: float = 0.3  # share of utterances through sox reverb
    rate_wpm: tuple[int, int] = (130, 200)  # espeak -s range, words per minute
    pitch: tuple[int, int] = (25, 75)  # espeak -p range (0-99)
    text_file: str | None = None
    jobs: int = 2

    def __post_init__(self) -> None:
        if self.minutes <= 0 or (self.test_minutes is not None and self.test_minutes <= 0):
            raise DataError(f"minutes and test minutes must be positive, not {self.minutes}, {self.test_minutes}")
        if len(set(self.voices)) < self.valid_voices + self.test_voices + 1:
            raise DataError(f"{len(set(self.voices))} voices cannot fill train, {self.valid_voices} valid and "
                            f"{self.test_voices} test voices")


@dataclass(frozen=True)
class UtteranceSpec:
    """Everything needed to render one utterance, drawn in the parent process so workers add no randomness."""

    relpath: str
    voice: str
    text: str
    rate: int
    pitch: int
    noise: str | None = None
    snr_db: float = 0.0
    reverb: tuple[int, int, int] | None = None  # sox reverb: reverberance, HF damping, room scale (%)
    seed: list[int] = field(default_factory=list)


def split_seconds(config: SynthConfig, split: str) -> float:
    """Seconds of audio of one split: its share of ``minutes``, or ``test_minutes`` for a test split sized on
    its own (a test split large enough to resolve small PER changes costs only synthesis time)."""
    if split == "test" and config.test_minutes is not None:
        return 60 * config.test_minutes
    return SPLIT_SHARE[split] * config.minutes * 60


def check_voices(voices: tuple[str, ...]) -> None:
    """Raise :class:`DataError` for a voice espeak-ng does not have (it would silently fall back otherwise)."""
    languages, variants = espeak.voices()
    for voice in voices:
        language, _, variant = voice.partition("+")
        if language not in languages or (variant and variant not in variants):
            raise DataError(f"espeak-ng has no voice {voice!r} (see `espeak-ng --voices=en` and --voices=variant)")


def split_voices(config: SynthConfig) -> dict[str, list[str]]:
    """Voices per split: a seeded draw of ``valid_voices`` and ``test_voices``, the rest train."""
    voices = sorted(set(config.voices))
    order = np.random.default_rng([config.seed, 7]).permutation(len(voices))
    shuffled = [voices[i] for i in order]
    v, t = config.valid_voices, config.test_voices
    return {"test": sorted(shuffled[:t]), "valid": sorted(shuffled[t : t + v]), "train": sorted(shuffled[t + v :])}


def sentence_source(config: SynthConfig, split: str) -> Iterator[str]:
    """Endless sentences for ``split``; splits never share a sentence unless a small --text file forces it."""
    index = SPLITS.index(split)
    if config.text_file is None:
        batch = 0
        while True:  # batches of fresh sentences, seeded by (seed, split, batch)
            yield from generate_sentences(500, seed=config.seed * 1000 + index * 100 + batch)
            batch += 1
    sentences = read_sentences(config.text_file)
    shuffled = [sentences[i] for i in np.random.default_rng([config.seed, 11]).permutation(len(sentences))]
    bounds = np.cumsum([0] + [round(SPLIT_SHARE[s] * len(shuffled)) for s in SPLITS])
    own = shuffled[bounds[index] : bounds[index + 1]] or shuffled
    yield from cycle(own)


def plan_split(config: SynthConfig, split: str, voices: list[str]) -> Iterator[UtteranceSpec]:
    """The endless, seeded sequence of utterances of one split, voices taking turns."""
    style = {v: np.random.default_rng([config.seed, zlib.crc32(v.encode())]) for v in voices}
    voice_rate = {v: int(style[v].integers(config.rate_wpm[0] + 15, config.rate_wpm[1] - 15)) for v in voices}
    voice_pitch = {v: int(style[v].integers(config.pitch[0] + 8, config.pitch[1] - 8)) for v in voices}
    texts = sentence_source(config, split)
    for i in count():
        voice = voices[i % len(voices)]
        rng = np.random.default_rng([config.seed, SPLITS.index(split), i])
        noisy = config.noise and rng.random() < config.noise_share
        reverb = config.noise and rng.random() < config.reverb_share
        yield UtteranceSpec(
            relpath=f"{split}/{voice}/{split}-{i:06d}.wav",
            voice=voice,
            text=next(texts),
            rate=voice_rate[voice] + int(rng.integers(-15, 16)),
            pitch=voice_pitch[voice] + int(rng.integers(-8, 9)),
            noise=str(rng.choice(NOISES)) if noisy else None,
            snr_db=float(rng.uniform(10, 30)),
            reverb=(int(rng.integers(20, 80)), int(rng.integers(20, 80)), int(rng.integers(30, 100))) if reverb
            else None,
            seed=[config.seed, SPLITS.index(split), i, 1],
        )


def render(spec: UtteranceSpec, root: Path) -> tuple[int, list[str], list[str]]:
    """Speak ``spec`` into ``root/spec.relpath``; returns (16 kHz samples, ARPAbet phones, unmapped symbols)."""
    speech = espeak.speak(spec.text, spec.voice, spec.rate, spec.pitch, ipa=True)
    wav, rate = speech.wav, speech.sample_rate
    if spec.reverb is not None:
        wav = sox_reverb(wav, rate, spec.reverb)
    wav = resample(wav, rate, SAMPLE_RATE)
    if spec.noise is not None:
        wav = add_noise(wav, spec.noise, spec.snr_db, np.random.default_rng(spec.seed))
    path = root / spec.relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    write_audio(path, wav)
    phones, unknown = ipa_to_arpabet(speech.ipa)
    return int(wav.shape[0]), phones, unknown


def sox_reverb(wav: np.ndarray, rate: int, reverb: tuple[int, int, int]) -> np.ndarray:
    """``wav`` through sox's reverb effect (no dither, so the output is repeatable)."""
    raw = ["-t", "f32", "-r", str(rate), "-c", "1"]
    command = ["sox", "-D", "-V1", *raw, "-", *raw, "-", "reverb", *map(str, reverb)]
    try:
        out = subprocess.run(command, input=wav.astype("<f4").tobytes(), capture_output=True, check=True).stdout
    except FileNotFoundError:
        raise DataError("sox is not installed (Debian package sox); or pass --no-noise") from None
    except subprocess.CalledProcessError as e:
        raise DataError(f"sox reverb failed: {e.stderr.decode(errors='replace').strip()[:200]}") from None
    wet = np.frombuffer(out, dtype="<f4")
    return wet / max(1.0, float(np.abs(wet).max()))


def add_noise(wav: np.ndarray, colour: str, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``wav`` plus white, pink (1/f) or brown (1/f^2) noise at ``snr_db`` below the speech power."""
    white = rng.standard_normal(wav.shape[0])
    if colour != "white":
        spectrum = np.fft.rfft(white)
        f = np.maximum(np.arange(spectrum.shape[0]), 1)
        spectrum /= np.sqrt(f) if colour == "pink" else f
        white = np.fft.irfft(spectrum, n=wav.shape[0])
    speech_power = float(np.mean(wav**2)) or 1e-8
    noise = white * np.sqrt(speech_power / (float(np.mean(white**2)) + 1e-12) / 10 ** (snr_db / 10))
    mixed = wav + noise.astype(np.float32)
    return (mixed / max(1.0, float(np.abs(mixed).max()))).astype(np.float32)


def _render_job(job: tuple[UtteranceSpec, Path]) -> tuple[int, list[str], list[str]]:
    return render(*job)


def synthesize_corpus(out: str | Path, config: SynthConfig, force: bool = False,
                      progress: Callable[[float], None] | None = None) -> dict:
    """Build the corpus folder ``out``; returns its ``corpus.json`` description.

    ``progress`` is called with the seconds of audio each finished utterance adds.
    """
    check_voices(config.voices)
    voices = split_voices(config)
    out = Path(out).absolute()
    info: dict = {"kind": "espeak-ng synthetic speech", "config": asdict(config), "voices": voices,
                  "phone_set": "ARPAbet (CMUdict, no stress) + DX, from espeak-ng --ipa", "splits": {}}
    unknown: dict[str, int] = {}
    context = multiprocessing.get_context("spawn")
    with building(out, force=force) as work, context.Pool(max(1, config.jobs)) as pool:
        for split in SPLITS:
            target = split_seconds(config, split) * SAMPLE_RATE
            utterances, total = [], 0
            specs = plan_split(config, split, voices[split])
            while total < target:  # whole blocks, then cut at the same index whatever the pool size
                block = [next(specs) for _ in range(8 * max(1, config.jobs))]
                for spec, (n, phones, missing) in zip(block, pool.imap(_render_job, [(s, work) for s in block])):
                    if total >= target:
                        (work / spec.relpath).unlink()
                        continue
                    utterances.append(Utterance(Path(spec.relpath), n, spec.text, phones))
                    total += n
                    for symbol in missing:
                        unknown[symbol] = unknown.get(symbol, 0) + 1
                    if progress is not None:
                        progress(n / SAMPLE_RATE)
            write_split(work, out, split, utterances)
            info["splits"][split] = {"utterances": len(utterances), "seconds": round(total / SAMPLE_RATE, 2)}
        info["unmapped_espeak_symbols"] = unknown
        write_inventory_and_info(work, ARPABET, info)
    log.info("wrote %s: %s", out, info["splits"])
    return info
