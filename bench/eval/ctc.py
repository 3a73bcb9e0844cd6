"""Greedy CTC decoding of frame classes or logits (blank = class 0), torch-free so that runtimes' children
(``fitedge bench run --stream``) can decode without importing torch."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

BLANK = 0


def collapse_ctc(frame_classes: Sequence[int], vocab: Sequence[str]) -> list[str]:
    """Merge runs of the same class, then drop blanks (class 0); class ``k`` is ``vocab[k - 1]``."""
    out, previous = [], None
    for c in frame_classes:
        if c != previous and c != BLANK:
            out.append(vocab[c - 1])
        previous = c
    return out


def greedy_ctc(logits: np.ndarray, tokens: Sequence[str]) -> list[str]:
    """``(frames, classes)`` logits (or log-probabilities) of a head whose ``tokens`` start with the blank, decoded
    greedily. Frames may come from a whole utterance or from one chunk of a stream (a stream keeps the last
    frame's class across chunks to collapse a repeat that straddles them)."""
    return collapse_ctc(np.asarray(logits).argmax(-1).tolist(), tokens[1:])
