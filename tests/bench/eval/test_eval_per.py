"""Phoneme error rate: edit distance by hand, the bootstrap interval, and a CTC probe that really learns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fitedge.bench.eval.bootstrap import bootstrap_error_rate, bootstrap_rate_difference
from fitedge.bench.eval.ctc import collapse_ctc
from fitedge.bench.eval.edit_distance import edit_counts, edit_distance, error_rate
from fitedge.bench.eval.features import MfccFeatures
from fitedge.bench.eval.per import EvalSettings, score_per, train_corpus_probe
from fitedge.bench.eval.probe import ProbeConfig
from fitedge.distill.data.corpus import load_split
from tests.helpers.cli import assert_one_line_error, run_cli


def test_edit_distance_hand_worked() -> None:
    # reference  K AE T S  vs hypothesis K AH T: AE->AH substituted, S deleted -> 2 edits of 4.
    counts = edit_counts("K AE T S".split(), "K AH T".split())
    assert (counts.substitutions, counts.deletions, counts.insertions, counts.edits) == (1, 1, 0, 2)
    # kitten -> sitting: the textbook 3 (k->s, e->i, +g).
    counts = edit_counts(list("kitten"), list("sitting"))
    assert (counts.substitutions, counts.deletions, counts.insertions) == (2, 0, 1)
    assert edit_distance([], list("abc")) == 3 and edit_distance(list("abc"), []) == 3
    # Corpus-level: (2 + 0 + 3) edits / (4 + 2 + 3) reference symbols, not a mean of per-utterance rates.
    refs = ["K AE T S".split(), ["AA", "B"], ["X", "Y", "Z"]]
    hyps = ["K AH T".split(), ["AA", "B"], []]
    assert error_rate(refs, hyps) == pytest.approx(5 / 9)


def test_edit_split_prefers_substitutions_among_minimal_alignments() -> None:
    # 5 edits either way; 4 substitutions + 1 insertion beats 2 + 1 deletion + 2 insertions.
    counts = edit_counts(list("BCBAACBA"), list("AABCCACBB"))
    assert (counts.substitutions, counts.deletions, counts.insertions) == (4, 0, 1)
    # Against a plain dynamic programme over (edits, -substitutions) on random phone strings.
    rng = np.random.default_rng(0)
    for _ in range(300):
        ref, hyp = (list(rng.choice(list("ABCD"), rng.integers(0, 12))) for _ in range(2))
        best = [[(j, 0) for j in range(len(hyp) + 1)]]
        for i, r in enumerate(ref, 1):
            row = [(i, 0)]
            for j, h in enumerate(hyp, 1):
                d = best[i - 1][j - 1]
                row.append(min(d if r == h else (d[0] + 1, d[1] - 1), (best[i - 1][j][0] + 1, best[i - 1][j][1]),
                               (row[j - 1][0] + 1, row[j - 1][1])))
            best.append(row)
        counts = edit_counts(ref, hyp)
        assert (counts.edits, -counts.substitutions) == best[-1][-1]
        assert counts.insertions - counts.deletions == len(hyp) - len(ref)


def test_greedy_ctc_collapses_repeats_and_drops_blanks() -> None:
    vocab = ["A", "B"]
    assert collapse_ctc([0, 1, 1, 0, 1, 2, 2, 0], vocab) == ["A", "A", "B"]
    assert collapse_ctc([0, 0, 0], vocab) == []


def test_bootstrap_interval_contains_estimate_and_narrows_with_data() -> None:
    rng = np.random.default_rng(3)
    lengths = rng.integers(10, 40, size=400)
    edits = rng.binomial(lengths, 0.3)
    small = bootstrap_error_rate(edits[:25], lengths[:25], seed=1)
    large = bootstrap_error_rate(edits, lengths, seed=1)
    for ci in (small, large):
        assert ci.low <= ci.estimate <= ci.high and ci.low < ci.high
    assert large.estimate == pytest.approx(edits.sum() / lengths.sum())
    assert (large.high - large.low) < 0.6 * (small.high - small.low)
    assert bootstrap_error_rate(edits, lengths, seed=1) == large  # seeded: reproducible


def test_paired_difference_is_much_narrower_than_the_two_intervals_when_utterances_share_their_difficulty() -> None:
    # Utterance difficulty varies widely (rates 5-60%); system b makes one extra error in every fifth utterance.
    rng = np.random.default_rng(4)
    lengths = rng.integers(10, 40, size=150)
    a = rng.binomial(lengths, rng.uniform(0.05, 0.6, size=150))
    b = a + (np.arange(150) % 5 == 0)
    diff = bootstrap_rate_difference(b, a, lengths, seed=2)
    assert diff.estimate == pytest.approx((b.sum() - a.sum()) / lengths.sum())
    assert 0.0 < diff.low <= diff.estimate <= diff.high  # a consistent extra error is told apart from none
    each = bootstrap_error_rate(a, lengths, seed=2)
    assert (diff.high - diff.low) < 0.2 * (each.high - each.low)
    assert bootstrap_rate_difference(a, a, lengths).to_dict()["high"] == 0.0  # identical systems: exactly zero
    with pytest.raises(ValueError, match="equally long"):
        bootstrap_rate_difference(b, a[:-1], lengths)


def test_probe_learns_well_below_chance(corpus: Path) -> None:
    assert 12 <= len(load_split(corpus, "train")) <= 40
    source = MfccFeatures()
    settings = EvalSettings(resamples=200)
    probe = train_corpus_probe(source, corpus, ProbeConfig(epochs=60, batch_size=4), settings)
    # Chance is 100% (an empty or random output). The probe fits what it was trained on...
    seen = score_per(probe, source, corpus, "mfcc", settings, split="train")
    assert seen.per < 0.6, seen.summary()
    # ...and stays clearly below chance on voices it never heard, from about 20 training sentences.
    report = score_per(probe, source, corpus, "mfcc", settings)
    assert report.per < 0.9, report.summary()
    assert report.ci_low <= report.per <= report.ci_high
    assert report.utterances == len(load_split(corpus, "test"))
    assert report.substitutions + report.deletions + report.insertions == round(report.per * report.reference_phonemes)


def test_eval_per_cli_writes_a_report_and_fails_in_one_line(corpus: Path, tmp_path: Path) -> None:
    result = run_cli("eval", "per", "mfcc", "--data", str(corpus), "--epochs", "2", "--json", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "per_report.json").read_text())
    assert report["model"] == "mfcc" and report["utterances"] == len(load_split(corpus, "test"))
    assert report["ci_low"] <= report["per"] <= report["ci_high"]
    empty = tmp_path / "not_a_corpus"
    empty.mkdir()
    assert_one_line_error(run_cli("eval", "per", "mfcc", "--data", str(empty)), "train.tsv")
    assert_one_line_error(run_cli("eval", "per", "mfcc", "--data", str(corpus), "--layer", "top"), "--layer")
