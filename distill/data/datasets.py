"""Training audio for fitedge: file lists, a cropping dataset, length-bucketed sharded batches, padding.

Sources are a folder tree of wav/flac/ogg files (e.g. LibriSpeech's layout), a fairseq TSV manifest, or a
labelled corpus folder (its ``train.tsv``). Unreadable or empty files never stop an epoch: the dataset marks
them bad in a shared-memory table (so DataLoader workers see each other's findings), serves the next good
item in their place, and :meth:`AudioDataset.report` says which files were skipped and why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.data.audio import AUDIO_SUFFIXES, num_samples, read_audio
from fitedge.distill.data.corpus import is_corpus, read_audio_tsv
from fitedge.errors import DataError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioItem:
    """One audio file and its length in 16 kHz samples (0 when its header could not be read)."""

    path: Path
    num_samples: int


def list_audio(source: str | Path) -> list[AudioItem]:
    """The audio files of ``source``: a corpus folder (its train.tsv), a ``.tsv`` manifest, or a folder tree.

    Files in a folder tree whose header cannot be read are kept with ``num_samples == 0`` so that the
    dataset counts and reports them instead of them vanishing silently.
    """
    source = Path(source)
    if source.is_dir() and is_corpus(source):
        source = source / "train.tsv"
    if source.is_file() and source.suffix == ".tsv":
        items = [AudioItem(path, n) for path, n in read_audio_tsv(source)]
    elif source.is_dir():
        files = sorted(p for p in source.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
        items = [AudioItem(p, _header_samples(p)) for p in files]
    else:
        raise DataError(f"{source}: not a folder of audio files, a .tsv manifest or a corpus folder")
    if not items:
        raise DataError(f"{source}: no audio files ({'/'.join(AUDIO_SUFFIXES)}) found")
    return items


def _header_samples(path: Path) -> int:
    try:
        return num_samples(path)
    except DataError as e:
        log.warning("%s", e)
        return 0


class AudioDataset(torch.utils.data.Dataset):
    """Float32 mono 16 kHz waveforms, randomly cropped to ``max_samples`` when longer.

    Crops are drawn from ``(seed, epoch, index)``, so they do not depend on worker count or rank and a
    resumed run sees the same crops. Call :meth:`set_epoch` at the start of every epoch.
    """

    def __init__(
        self, items: Sequence[AudioItem], max_samples: int | None = None, crop: str = "random", seed: int = 0
    ) -> None:
        if crop not in ("random", "none"):
            raise DataError(f"crop must be 'random' or 'none', not {crop!r}")
        if not items:
            raise DataError("no audio items to train on")
        self.items = list(items)
        self.max_samples = max_samples
        self.crop = crop
        self.seed = seed
        self.epoch = 0
        self._bad = torch.zeros(len(self.items), dtype=torch.bool).share_memory_()

    def __len__(self) -> int:
        return len(self.items)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, index: int) -> np.ndarray:
        """Item ``index``, or when that file is unreadable or empty the next good item after it."""
        for step in range(len(self.items)):
            candidate = (index + step) % len(self.items)
            if self._bad[candidate]:
                continue
            wav = self._load(candidate)
            if wav is not None:
                return self._crop(wav, index)
        raise DataError(f"none of the {len(self.items)} audio files could be read ({self.report()})")

    def _load(self, index: int) -> np.ndarray | None:
        item = self.items[index]
        try:
            return read_audio(item.path, SAMPLE_RATE)
        except DataError as e:
            self._bad[index] = True
            log.warning("skipping %s", e)
            return None

    def _crop(self, wav: np.ndarray, index: int) -> np.ndarray:
        if self.max_samples is None or wav.shape[0] <= self.max_samples:
            return wav
        if self.crop == "none":
            return wav[: self.max_samples]
        rng = np.random.default_rng([self.seed, self.epoch, index])
        start = int(rng.integers(0, wav.shape[0] - self.max_samples + 1))
        return wav[start : start + self.max_samples]

    @property
    def skipped(self) -> int:
        """How many files were found unreadable or empty so far (over all DataLoader workers)."""
        return int(self._bad.sum())

    @property
    def skipped_paths(self) -> list[Path]:
        return [self.items[i].path for i in torch.nonzero(self._bad).flatten().tolist()]

    def report(self) -> str:
        """One line: how many files were skipped, naming the first few."""
        paths = self.skipped_paths
        if not paths:
            return "no unreadable or empty audio files"
        names = ", ".join(str(p) for p in paths[:5]) + (", ..." if len(paths) > 5 else "")
        return f"skipped {len(paths)} unreadable or empty audio file(s): {names}"


class BucketBatchSampler(torch.utils.data.Sampler[list[int]]):
    """Length-bucketed batches, shuffled per epoch, each global batch split across ``world_size`` ranks.

    Items are sorted by length (ties broken by a per-epoch shuffle) and cut into *global* batches of
    ``batch_size`` items or, with ``max_batch_samples``, as many items as fit ``items x longest <= budget``
    (padding included). Global batches are visited in a per-epoch shuffled order and rank ``r`` takes items
    ``r, r + world_size, ...`` of each, so every rank runs the same number of steps and one process with
    the same global batch sees exactly the union of what the ranks see. A global batch smaller than
    ``world_size`` is topped up with items from the start of the epoch (or dropped with ``drop_last``).
    """

    def __init__(
        self,
        lengths: Sequence[int],
        max_batch_samples: int | None = None,
        batch_size: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        drop_last: bool = False,
    ) -> None:
        if (max_batch_samples is None) == (batch_size is None):
            raise DataError("give exactly one of max_batch_samples and batch_size")
        if not 0 <= rank < world_size:
            raise DataError(f"rank {rank} is outside world size {world_size}")
        if len(lengths) < world_size:
            raise DataError(f"{len(lengths)} items cannot feed {world_size} ranks")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.max_batch_samples = max_batch_samples
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.drop_last = drop_last
        self.epoch = 0
        self.start_batch = 0

    def set_epoch(self, epoch: int, start_batch: int = 0) -> None:
        """Select the epoch's order; ``start_batch`` skips the batches a resumed run has already done."""
        self.epoch = epoch
        self.start_batch = start_batch

    def global_batches(self) -> list[list[int]]:
        """This epoch's global batches (all ranks), in visiting order."""
        rng = np.random.default_rng([self.seed, self.epoch])
        order = rng.permutation(len(self.lengths)) if self.shuffle else np.arange(len(self.lengths))
        order = order[np.argsort(self.lengths[order], kind="stable")]
        batches = self._cut(order.tolist())
        if self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return self._fit_to_ranks(batches, order.tolist())

    def _cut(self, order: list[int]) -> list[list[int]]:
        if self.batch_size is not None:
            return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        batches, current, longest = [], [], 0
        for index in order:
            longest_with = max(longest, int(self.lengths[index]))
            if len(current) >= self.world_size and (len(current) + 1) * longest_with > self.max_batch_samples:
                batches.append(current)
                current, longest_with = [], int(self.lengths[index])
            current.append(index)
            longest = longest_with
        if current:
            batches.append(current)
        return batches

    def _fit_to_ranks(self, batches: list[list[int]], order: list[int]) -> list[list[int]]:
        fitted = []
        for batch in batches:
            if len(batch) < self.world_size:
                if self.drop_last:
                    continue
                batch = batch + order[: self.world_size - len(batch)]
            fitted.append(batch)
        return fitted

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self.global_batches()[self.start_batch :]:
            yield batch[self.rank :: self.world_size]

    def __len__(self) -> int:
        return len(self.global_batches()) - self.start_batch


def collate_audio(wavs: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-pad waveforms to the longest: ``(wav float32 [B, S], lengths int64 [B])``."""
    lengths = torch.tensor([w.shape[0] for w in wavs], dtype=torch.long)
    batch = torch.zeros(len(wavs), int(lengths.max()) if len(wavs) else 0, dtype=torch.float32)
    for row, wav in enumerate(wavs):
        batch[row, : wav.shape[0]] = torch.from_numpy(np.asarray(wav, dtype=np.float32))
    return batch, lengths
