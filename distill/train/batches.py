"""Training and validation batches for distillation, built on the data API (contract 4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.data.datasets import AudioDataset, AudioItem, BucketBatchSampler, collate_audio
from fitedge.distill.train.distributed import DistEnv


class BatchConfig(Protocol):
    batch_seconds: float
    crop_seconds: float | None
    seed: int
    num_workers: int


def audio_loader(items: Sequence[AudioItem], cfg: BatchConfig, env: DistEnv,
                 shuffle: bool) -> tuple[torch.utils.data.DataLoader, BucketBatchSampler, AudioDataset]:
    """Length-bucketed ``(wav, lengths)`` batches of this rank's share.

    ``cfg.batch_seconds`` is the audio per rank per micro-batch, so the sampler cuts *global* batches of
    ``world_size`` times that and deals them out by rank: N processes see exactly what one process with
    the N-fold batch sees. Training crops longer utterances at random (reproducibly per epoch and item);
    validation (``shuffle=False``) keeps their start.
    """
    max_samples = int(cfg.crop_seconds * SAMPLE_RATE) if cfg.crop_seconds else None
    dataset = AudioDataset(items, max_samples=max_samples, crop="random" if shuffle else "none", seed=cfg.seed)
    lengths = [min(item.num_samples, max_samples or item.num_samples) for item in items]
    sampler = BucketBatchSampler(lengths, max_batch_samples=int(cfg.batch_seconds * SAMPLE_RATE) * env.world_size,
                                 shuffle=shuffle, seed=cfg.seed, rank=env.rank, world_size=env.world_size)
    # A private generator: starting an epoch must not draw from the global RNG that dropout uses, or a
    # resumed run (which starts its epoch mid-way) would see different dropout masks.
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collate_audio,
                                         num_workers=cfg.num_workers, pin_memory=env.device.type == "cuda",
                                         generator=torch.Generator().manual_seed(cfg.seed))
    return loader, sampler, dataset
