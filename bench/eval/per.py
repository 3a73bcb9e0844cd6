"""Phoneme error rate of a model or an exported artifact on a labelled corpus: ``evaluate_per``.

The probe is trained on frozen features of the corpus's train split (best epoch chosen on the valid split)
and scored on the test split, whose speakers or voices are unseen in training. To judge a deployed
artifact the way it will be used, a probe trained on the float model's features can be passed in and
applied unchanged to the artifact's features (:func:`score_per`): the head an app ships is trained once,
on float features.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.bench.eval.bootstrap import bootstrap_error_rate
from fitedge.bench.eval.edit_distance import edit_counts, error_rate
from fitedge.bench.eval.probe import PhonemeProbe, ProbeConfig, probe_head, train_probe
from fitedge.distill.models.ctc_head import save_ctc_head
from fitedge.errors import ConfigError, DataError
from fitedge.threads import torch_threads

log = logging.getLogger(__name__)
DEFAULT_PROBE = ProbeConfig()

FeatureSource = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class PerReport:
    """The PER of one model or artifact on one corpus, with its interval and everything that set it."""

    model: str
    corpus: str
    per: float
    ci_low: float
    ci_high: float
    ci_level: float
    utterances: int
    reference_phonemes: int
    substitutions: int
    deletions: int
    insertions: int
    settings: dict = field(default_factory=dict)
    # Per test utterance, in corpus order: what a paired comparison of two systems on the same utterances needs.
    utterance_edits: list[int] = field(default_factory=list)
    utterance_phonemes: list[int] = field(default_factory=list)
    # With chunk settings (``evaluate_per(stream=...)``): the same probe on the streamed frames, per setting.
    streamed: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def summary(self) -> str:
        return (f"PER {100 * self.per:.2f}% (95% CI {100 * self.ci_low:.2f}-{100 * self.ci_high:.2f}) "
                f"on {self.utterances} utterances of {self.corpus} [{self.model}]")


@dataclass(frozen=True)
class EvalSettings:
    """Which slice of the corpus is used and how the interval is computed.

    ``max_train``/``max_valid``/``max_test`` cap the utterances per split (a seeded random subset), because
    extracting features through an artifact costs real time on a small CPU; ``None`` takes them all.
    """

    max_train: int | None = None
    max_valid: int | None = 200
    max_test: int | None = None
    seed: int = 0
    ci_level: float = 0.95
    resamples: int = 1000


def load_utterances(corpus_dir: str | Path, split: str, limit: int | None, seed: int) -> list:
    """A split of a labelled corpus, optionally a seeded random subset of ``limit`` utterances (file order kept)."""
    from fitedge.distill.data.corpus import load_split

    utterances = load_split(corpus_dir, split)
    if not utterances:
        raise DataError(f"{corpus_dir}: the {split} split is empty")
    if limit is not None and limit < len(utterances):
        keep = np.sort(np.random.default_rng(seed).permutation(len(utterances))[:limit])
        utterances = [utterances[i] for i in keep]
    return utterances


def extract(source: FeatureSource, utterances: Sequence, progress: bool = False, desc: str = "") -> list[np.ndarray]:
    """Features of every utterance through ``source``."""
    from fitedge.distill.data.audio import read_audio

    items = utterances
    if progress:
        from tqdm import tqdm

        items = tqdm(utterances, desc=desc or "features", unit="utt", leave=False)
    return [source(read_audio(u.path)) for u in items]


def train_corpus_probe(source: FeatureSource, corpus_dir: str | Path, probe: ProbeConfig = DEFAULT_PROBE,
                       settings: EvalSettings = EvalSettings(), progress: bool = False) -> PhonemeProbe:
    """Train a probe on ``source``'s features of the train split, keeping the best epoch on the valid split."""
    from fitedge.distill.data.corpus import phoneme_inventory

    train = load_utterances(corpus_dir, "train", settings.max_train, settings.seed)
    valid = _optional_split(corpus_dir, "valid", settings)
    train_features = extract(source, train, progress, "train features")
    validate = None
    if valid:
        valid_features = extract(source, valid, progress, "valid features")
        references = [u.phonemes for u in valid]

        def validate(p: PhonemeProbe) -> float:
            return error_rate(references, p.decode(valid_features))

    return train_probe(train_features, [u.phonemes for u in train], phoneme_inventory(corpus_dir), probe, validate)


def score_per(probe: PhonemeProbe, source: FeatureSource, corpus_dir: str | Path, name: str,
              settings: EvalSettings = EvalSettings(), progress: bool = False,
              extra: dict | None = None, split: str = "test") -> PerReport:
    """PER of ``probe`` decoding ``source``'s features of a split (the test split), with a bootstrap interval."""
    test = load_utterances(corpus_dir, split, settings.max_test if split == "test" else None, settings.seed)
    hypotheses = probe.decode(extract(source, test, progress, f"test {name}"))
    counts = [edit_counts(u.phonemes, h) for u, h in zip(test, hypotheses)]
    ci = bootstrap_error_rate([c.edits for c in counts], [c.reference_length for c in counts], settings.ci_level,
                              settings.resamples, settings.seed)
    stats = getattr(source, "stats", None)
    framing = getattr(source, "framing", None)
    report_settings = {
        "probe": probe.config.to_dict(),
        "layer_weights": [round(float(w), 4) for w in probe.layer_weights.detach()],
        "framing": framing.describe() if framing is not None else "whole utterances",
        "test_padded": getattr(stats, "padded", 0),
        "test_chunked": getattr(stats, "chunked", 0),
        "split": split,
        "eval": asdict(settings),
        **(extra or {}),
    }
    return PerReport(
        model=name, corpus=str(corpus_dir), per=ci.estimate, ci_low=ci.low, ci_high=ci.high, ci_level=ci.level,
        utterances=len(test), reference_phonemes=sum(c.reference_length for c in counts),
        substitutions=sum(c.substitutions for c in counts), deletions=sum(c.deletions for c in counts),
        insertions=sum(c.insertions for c in counts), settings=report_settings,
        utterance_edits=[c.edits for c in counts], utterance_phonemes=[c.reference_length for c in counts],
    )


def evaluate_per(model_or_artifact: str | Path, corpus_dir: str | Path, layer: str | int = "last",
                 probe: ProbeConfig = DEFAULT_PROBE, settings: EvalSettings = EvalSettings(),
                 threads: int | None = None, progress: bool = False, save_probe: str | Path | None = None,
                 stream: Sequence[Any] = ()) -> PerReport:
    """Train a probe on the model's (or artifact's, or MFCC's) own features and report its test PER.

    Args:
        model_or_artifact: ``mfcc``, a ``.pte``/``.tflite``/``.onnx`` file, or a source ``fitedge.load`` reads.
        corpus_dir: a labelled corpus folder (``fitedge data synth`` / ``fitedge data asterisk``).
        layer: ``last``, a hidden-state index, or ``weighted`` (learned softmax-weighted sum of all layers).
        probe: probe shape and training.
        settings: corpus subsets, seed and interval.
        threads: threads of the artifact's runtime and of PyTorch (eager model, probe); ``None``: defaults.
        progress: show progress bars.
        save_probe: also write the trained probe here as a CTC head (:mod:`fitedge.distill.models.ctc_head`),
            what ``fitedge export --head`` ships.
        stream: chunk settings (:class:`~fitedge.edge.stream.source.StreamSettings`) at which the same probe also
            decodes the test split as a live stream emits it (:mod:`fitedge.bench.eval.streamed`); the report's
            ``streamed`` gives each one's PER and its paired change against the full-utterance PER.
    """
    from fitedge.bench.eval.features import feature_source
    from fitedge.bench.eval.streamed import streamed_features, streamed_per

    if save_probe is not None and str(model_or_artifact) == "mfcc":
        raise ConfigError("--save-probe needs a model's features: a probe on MFCC cannot be a head of the model")
    if stream and str(model_or_artifact) == "mfcc":
        raise ConfigError("--chunk-ms needs a model to stream: MFCC features are not streamed")
    with torch_threads(threads):
        source = feature_source(str(model_or_artifact), layer, threads)
        trained = train_corpus_probe(source, corpus_dir, probe, settings, progress)
        if save_probe is not None:
            info = {"trained_on": str(model_or_artifact), "corpus": str(corpus_dir)}
            save_ctc_head(probe_head(trained, source.layer, info), save_probe)
        source.stats.padded = source.stats.chunked = 0  # the report counts the test split only
        full = score_per(trained, source, corpus_dir, str(model_or_artifact), settings, progress,
                         {"layer": str(layer), "threads": threads})
        rows = []
        for setting in stream:
            streamed = streamed_features(model_or_artifact, setting, source.layer, threads)
            report = score_per(trained, streamed, corpus_dir, streamed.name, settings, progress)
            rows.append(streamed_per(report, full, streamed.geometry, settings, streamed.fill_edges).to_dict())
        return replace(full, streamed=rows)


def _optional_split(corpus_dir: str | Path, split: str, settings: EvalSettings) -> list:
    if not (Path(corpus_dir) / f"{split}.tsv").is_file():
        return []
    limit = settings.max_valid if split == "valid" else None
    try:
        return load_utterances(corpus_dir, split, limit, settings.seed)
    except DataError:
        return []
