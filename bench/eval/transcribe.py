"""``fitedge transcribe``: phonemes of WAV files from every artifact of a bundle with a CTC head.

Each artifact runs in its own runtime and sees the audio as the PER evaluation feeds it (a static artifact
gets long audio in windows of its length, the last zero-padded, frames over padding dropped:
:class:`fitedge.bench.eval.features.ModelFeatures`). Its ``logits`` are decoded greedily
(:func:`fitedge.bench.eval.ctc.greedy_ctc`, which also takes the frames of one chunk of a stream). Each int8
artifact is compared with its fp32 sibling (same runtime) token by token: agreement = 1 - edit distance /
the fp32 transcript's length (below 0 when the int8 one is mostly insertions); over several files, pooled: the
edits summed over the fp32 lengths summed.

With a stream (``--stream``), each artifact instead hears the audio as a live microphone delivers it, in 20 ms
pieces through :func:`fitedge.stream`, and the frames it emits as they become final are decoded: what the demo
app's Live mode shows. A static artifact streams only with the chunk and context it was exported for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.bench.eval.ctc import greedy_ctc
from fitedge.bench.eval.edit_distance import edit_distance
from fitedge.bench.eval.features import artifact_features
from fitedge.edge.bundle.manifest import ArtifactEntry, Manifest, sha256_bytes
from fitedge.errors import BundleError, ConfigError

PIECE_SAMPLES = 320  # 20 ms at 16 kHz: what a microphone callback typically delivers


@dataclass(frozen=True)
class BundleHead:
    """A bundle's CTC head as an app reads it: the output holding the logits and the tokens, blank first."""

    output: str
    tokens: list[str]


@dataclass(frozen=True)
class Transcript:
    """One artifact's phonemes; for int8, its agreement with the fp32 sibling."""

    file: str
    runtime: str
    precision: str
    frames: int
    phonemes: list[str]
    sibling: str | None = None
    agreement: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def read_bundle_head(bundle: str | Path, manifest: Manifest) -> BundleHead:
    """The ``head`` section and ``tokens.txt`` of a bundle, checked (sha256, count, blank first)."""
    head = manifest.extra.get("head")
    if head is None:
        raise BundleError(f"{bundle}: the bundle has no CTC head (export it with --head HEAD.safetensors)")
    path = Path(bundle) / head["tokens"]
    try:
        raw = path.read_bytes()
    except OSError:
        raise BundleError(f"{path}: tokens file missing") from None
    if sha256_bytes(raw) != head["tokens_sha256"]:
        raise BundleError(f"{path}: sha256 differs from the manifest (file changed or corrupted)")
    tokens = raw.decode().splitlines()
    if len(tokens) != head["vocab_size"] or head["blank"] != 0:
        raise BundleError(f"{path}: {len(tokens)} tokens with blank {head['blank']}; the manifest says "
                          f"{head['vocab_size']} with blank 0")
    return BundleHead(head["output"], tokens)


def fp32_sibling(entry: ArtifactEntry, entries: Sequence[ArtifactEntry]) -> ArtifactEntry | None:
    """The fp32 artifact of the same runtime and file type as an int8 ``entry``."""
    suffix = Path(entry.file).suffix
    return next((e for e in entries if e.precision == "fp32" and e.runtime == entry.runtime
                 and Path(e.file).suffix == suffix), None)


def agreement(reference: Sequence[str], hypothesis: Sequence[str]) -> float:
    """1 - edit distance / reference length (1.0 for two empty transcripts, 0.0 against an empty reference)."""
    if not reference:
        return 1.0 if not hypothesis else 0.0
    return 1.0 - edit_distance(reference, hypothesis) / len(reference)


def artifact_decoder(path: str | Path, head: BundleHead, threads: int | None = None,
                     stream: Any = None) -> Callable[[np.ndarray], tuple[int, list[str]]]:
    """A function from ``wav`` (16 kHz float32) to the number of logit frames and the greedy phonemes of the
    artifact at ``path``, loaded once. ``stream``: a :class:`~fitedge.edge.stream.source.StreamSettings` to hear
    each file live instead of whole."""
    features = artifact_features(path, head.output, threads) if stream is None else None

    def decode(wav: np.ndarray) -> tuple[int, list[str]]:
        logits = features(wav)[0] if features is not None else streamed_logits(path, wav, head.output, stream,
                                                                               threads)
        return logits.shape[0], greedy_ctc(logits, head.tokens)
    return decode


def streamed_logits(path: str | Path, wav: np.ndarray, output: str, settings: Any,
                    threads: int | None = None) -> np.ndarray:
    """``output``'s frames of the artifact at ``path`` as a stream emits them, fed ``wav`` in 20 ms pieces."""
    from fitedge.edge.stream.source import open_stream

    stream = open_stream(Path(path), settings, threads)
    frames = []
    for start in range(0, len(wav), PIECE_SAMPLES):
        stream.accept_waveform(wav[start:start + PIECE_SAMPLES])
        frames.append(stream.read().get(output))
    stream.input_finished()
    frames.append(stream.read().get(output))
    return np.concatenate([f for f in frames if f is not None])


def transcribe_files(bundle: str | Path, audios: Sequence[str | Path], artifacts: Sequence[str] = (),
                     threads: int | None = None, stream: Any = None) -> list[list[Transcript]]:
    """Phonemes of each of ``audios`` from every artifact of ``bundle`` (or those named, each int8 with its fp32
    sibling), one list per file; each artifact is loaded once. ``stream``
    (:class:`~fitedge.edge.stream.source.StreamSettings`): each file heard live, chunk by chunk."""
    from fitedge.distill.data.audio import read_audio

    manifest = Manifest.read(bundle)
    head = read_bundle_head(bundle, manifest)
    unknown = [a for a in artifacts if manifest.artifact(a) is None]
    if unknown:
        names = ", ".join(a.file for a in manifest.artifacts)
        raise ConfigError(f"{bundle}: no artifact {', '.join(unknown)} (it has {names})")
    chosen = [a for a in manifest.artifacts if not artifacts or a.file in artifacts]
    siblings = {a.file: fp32_sibling(a, manifest.artifacts) for a in chosen if a.precision == "int8"}
    needed = {a.file for a in chosen} | {s.file for s in siblings.values() if s is not None}
    entries = [a for a in manifest.artifacts if a.file in needed]
    wavs = [read_audio(audio) for audio in audios]  # every file read first: a bad one fails before any model runs
    decoded = {}
    for a in entries:
        decode = artifact_decoder(Path(bundle) / a.file, head, threads, stream)
        decoded[a.file] = [decode(wav) for wav in wavs]
    results = []
    for i in range(len(wavs)):
        transcripts = []
        for a in entries:
            frames, phonemes = decoded[a.file][i]
            sibling = siblings.get(a.file)
            score = None if sibling is None else round(agreement(decoded[sibling.file][i][1], phonemes), 4)
            transcripts.append(Transcript(a.file, a.runtime, a.precision, frames, phonemes,
                                          None if sibling is None else sibling.file, score))
        results.append(transcripts)
    return results


def transcribe_bundle(bundle: str | Path, audio: str | Path, artifacts: Sequence[str] = (),
                      threads: int | None = None, stream: Any = None) -> list[Transcript]:
    """Phonemes of one ``audio`` file from every artifact of ``bundle``: :func:`transcribe_files` for one file."""
    return transcribe_files(bundle, [audio], artifacts, threads, stream)[0]


def pooled_agreement(files: Sequence[Sequence[Transcript]]) -> dict[str, float]:
    """Each int8 artifact's agreement with its fp32 sibling over all ``files`` together: 1 - the edit distances
    summed / the fp32 transcripts' lengths summed (so a long prompt weighs more than a short one)."""
    edits: dict[str, list[int]] = {}
    for transcripts in files:
        by_file = {t.file: t for t in transcripts}
        for t in transcripts:
            if t.sibling is not None:
                reference = by_file[t.sibling].phonemes
                counts = edits.setdefault(t.file, [0, 0])
                counts[0] += edit_distance(reference, t.phonemes)
                counts[1] += len(reference)
    return {file: round(1.0 - e / n, 4) if n else float(e == 0) for file, (e, n) in edits.items()}
