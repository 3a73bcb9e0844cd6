"""Levenshtein edit distance between symbol sequences, and the phoneme error rate (PER) built on it.

PER over a test set is corpus-level, as in SUPERB: total edits (substitutions + deletions + insertions)
divided by the total number of reference symbols, not a mean of per-utterance rates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


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
    """Minimum edits turning ``reference`` into ``hypothesis``, by dynamic programming.

    Each cell keeps ``(total, subs, dels, ins)``; ties prefer substitution, then deletion, so the split is
    deterministic.
    """
    n = len(hypothesis)
    previous = [(j, 0, 0, j) for j in range(n + 1)]  # empty reference: j insertions
    for i, ref_symbol in enumerate(reference, start=1):
        current = [(i, 0, i, 0)]  # empty hypothesis: i deletions
        for j, hyp_symbol in enumerate(hypothesis, start=1):
            diag = previous[j - 1]
            if ref_symbol == hyp_symbol:
                best = diag
            else:
                best = (diag[0] + 1, diag[1] + 1, diag[2], diag[3])
                up = previous[j]
                if up[0] + 1 < best[0]:
                    best = (up[0] + 1, up[1], up[2] + 1, up[3])
                left = current[j - 1]
                if left[0] + 1 < best[0]:
                    best = (left[0] + 1, left[1], left[2], left[3] + 1)
            current.append(best)
        previous = current
    _, subs, dels, ins = previous[n]
    return EditCounts(subs, dels, ins, len(reference))


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """The Levenshtein distance between two symbol sequences."""
    return edit_counts(reference, hypothesis).edits


def error_rate(references: Sequence[Sequence[str]], hypotheses: Sequence[Sequence[str]]) -> float:
    """Corpus-level error rate: summed edits over summed reference lengths."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    edits = sum(edit_distance(r, h) for r, h in zip(references, hypotheses))
    total = sum(len(r) for r in references)
    if total == 0:
        raise ValueError("the references contain no symbols")
    return edits / total
