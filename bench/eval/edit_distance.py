"""Levenshtein edit distance between symbol sequences, and the phoneme error rate (PER) built on it.

PER over a test set is corpus-level, as in SUPERB: total edits (substitutions + deletions + insertions)
divided by the total number of reference symbols, not a mean of per-utterance rates.

The distances come from rapidfuzz (C++, bit-parallel for unit costs), which takes any sequence of hashable
symbols, so ARPAbet phone lists are compared as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein


@dataclass(frozen=True)
class EditCounts:
    """Edits of one alignment: the minimum total, split by kind (one minimal alignment's split)."""

    substitutions: int
    deletions: int
    insertions: int
    reference_length: int

    @property
    def edits(self) -> int:
        return self.substitutions + self.deletions + self.insertions


def edit_counts(reference: Sequence[str], hypothesis: Sequence[str]) -> EditCounts:
    """Minimum edits turning ``reference`` into ``hypothesis``, split by kind.

    Among the minimum-edit alignments the split is that of the one with the most substitutions, so one
    substitution is never counted as a deletion plus an insertion. It is found with one weighted distance:
    insertions and deletions cost ``big`` and substitutions ``big - 1``, so an alignment with ``e`` edits of
    which ``s`` are substitutions costs ``big * e - s``; because ``s < big``, the cheapest alignment has the
    fewest edits and, among those, the most substitutions. With the substitutions known, the deletions and
    insertions follow from the lengths (insertions - deletions = len(hypothesis) - len(reference)).
    """
    big = len(reference) + len(hypothesis) + 1
    cost = Levenshtein.distance(reference, hypothesis, weights=(big, big, big - 1))
    edits = -(-cost // big)
    substitutions = edits * big - cost
    insertions = (edits - substitutions + len(hypothesis) - len(reference)) // 2
    return EditCounts(substitutions, edits - substitutions - insertions, insertions, len(reference))


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """The Levenshtein distance between two symbol sequences."""
    return Levenshtein.distance(reference, hypothesis)


def error_rate(references: Sequence[Sequence[str]], hypotheses: Sequence[Sequence[str]]) -> float:
    """Corpus-level error rate: summed edits over summed reference lengths."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    edits = sum(edit_distance(r, h) for r, h in zip(references, hypotheses))
    total = sum(len(r) for r in references)
    if total == 0:
        raise ValueError("the references contain no symbols")
    return edits / total
