"""``fitedge data``: build the labelled speech corpora (synthetic espeak-ng speech, Asterisk prompts)."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.group("data")
def data() -> None:
    """Build labelled speech corpora offline (audio + text + ARPAbet phones, split by voice).

    \b
    A corpus folder holds {train,valid,test}.tsv (fairseq manifests), .wrd (text), .phn (phones),
    phonemes.txt and corpus.json; `fitedge pretrain/distill --data DIR` and the probes read it.
    """


@data.command("synth")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Corpus folder to create.")
@click.option("--minutes", default=10.0, show_default=True, type=float,
              help="Total audio, all splits (train 80%, valid 10%, test 10%).")
@click.option("--test-minutes", type=click.FloatRange(min=0, min_open=True),
              help="Audio of the test split on its own instead of its 10% share (a test set large enough to "
                   "resolve small PER changes).")
@click.option("--seed", default=0, show_default=True, type=int, help="Same seed, same corpus.")
@click.option("--voices", multiple=True, metavar="VOICE[,VOICE...]",
              help="espeak-ng voices LANG[+VARIANT] (e.g. en-us+f3,en-gb+m2); default: 16 voices, 4 accents.")
@click.option("--valid-voices", default=2, show_default=True, type=int, help="Voices held out for valid.")
@click.option("--test-voices", default=2, show_default=True, type=int, help="Voices held out for test.")
@click.option("--noise/--no-noise", default=True, show_default=True,
              help="Add coloured noise (40% of utterances, SNR 10-30 dB) and sox reverb (30%).")
@click.option("--text", "text_file", type=click.Path(exists=True, dir_okay=False),
              help="Sentences to speak: one per line, or CMU ARCTIC '( id \"text\" )' lines. "
                   "Default: fitedge's built-in sentence generator.")
@click.option("--jobs", default=2, show_default=True, type=int, help="Worker processes.")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print corpus.json instead of a summary.")
def synth(out: Path, minutes: float, test_minutes: float | None, seed: int, voices: tuple[str, ...],
          valid_voices: int, test_voices: int, noise: bool, text_file: str | None, jobs: int, force: bool,
          as_json: bool) -> None:
    """Speak a multi-voice English corpus with espeak-ng (16 kHz wav, text, phones; splits by voice).

    \b
    Example:
      fitedge data synth --out corpus/ --minutes 120 --seed 0 --jobs 2
      fitedge data synth --out arctic/ --minutes 30 --text cmuarctic.data --voices en-us+f3,en-us+m3,en-gb+m2,en-029+f2
    """
    from tqdm import tqdm

    from fitedge.distill.data.corpus import SPLITS
    from fitedge.distill.data.synthesis import DEFAULT_VOICES, SynthConfig, split_seconds, synthesize_corpus

    chosen = tuple(v for option in voices for v in option.split(",") if v) or DEFAULT_VOICES
    config = SynthConfig(minutes=minutes, seed=seed, voices=chosen, valid_voices=valid_voices,
                         test_voices=test_voices, noise=noise, text_file=text_file, jobs=jobs,
                         test_minutes=test_minutes)
    bars: list[tqdm] = []  # opened on the first finished utterance, so that early errors print alone

    def advance(seconds: float) -> None:
        if not bars:
            bar_format = "{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} s of audio [{elapsed}<{remaining}]"
            total = sum(split_seconds(config, split) for split in SPLITS)
            bars.append(tqdm(total=round(total), desc="synth", bar_format=bar_format, disable=as_json))
        bars[0].update(min(seconds, bars[0].total - bars[0].n))  # splits overshoot their share a little

    try:
        info = synthesize_corpus(out, config, force=force, progress=advance)
    finally:
        for bar in bars:
            bar.close()
    _report(out, info, as_json)


@data.command("asterisk")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Corpus folder to create.")
@click.option("--sounds", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of the prompts (default: where asterisk-core-sounds-en-wav installs them).")
@click.option("--transcripts", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="core-sounds-en.txt(.gz) (default: from the asterisk-core-sounds-en package).")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print corpus.json instead of a summary.")
def asterisk(out: Path, sounds: Path | None, transcripts: Path | None, force: bool, as_json: bool) -> None:
    """Turn the Debian Asterisk English prompts (real speech, one speaker) into a labelled corpus.

    \b
    Needs the Debian packages asterisk-core-sounds-en-wav (audio) and asterisk-core-sounds-en (transcripts).
    Example:
      fitedge data asterisk --out asterisk_corpus/
    """
    from fitedge.distill.data.asterisk import build_asterisk_corpus

    info = build_asterisk_corpus(out, sounds=sounds, transcripts=transcripts, force=force)
    _report(out, info, as_json)


@data.command("merge")
@click.argument("corpora", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="Corpus folder to create.")
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option("--json", "as_json", is_flag=True, help="Print corpus.json instead of a summary.")
def merge(corpora: tuple[Path, ...], out: Path, force: bool, as_json: bool) -> None:
    """One corpus whose train, valid and test splits are those of CORPORA together.

    \b
    The new folder holds manifests only: its rows point at the CORPORA's audio, which must stay where it is.
    The CORPORA must share one phoneme inventory. Example (a teacher that hears real and synthetic speech):
      fitedge data merge corpus_synth/ corpus_asterisk/ --out corpus_mixed/
      fitedge pretrain --data corpus_mixed/ --out runs/pre --ctc-weight 1
    """
    from fitedge.distill.data.merge import merge_corpora

    info = merge_corpora(corpora, out, force=force)
    _report(out, info, as_json)


def _report(out: Path, info: dict, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(info, indent=2, sort_keys=True))
        return
    for split, numbers in info["splits"].items():
        click.echo(f"{split:>5}: {numbers['utterances']:5d} utterances, {numbers['seconds'] / 60:7.1f} min")
    click.echo(f"wrote {out}")
