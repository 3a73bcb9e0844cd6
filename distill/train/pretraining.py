"""HuBERT's first iteration at small scale: masked prediction of MFCC k-means units.

fairseq's HuBERT (Hsu et al. 2021): the CNN features are projected, spans of them are replaced by a learned
mask embedding, the transformer output is projected to ``final_dim`` and scored against one embedding per unit
by cosine similarity / 0.1; the loss is the cross-entropy on masked frames only (``pred_masked_weight`` 1,
``pred_nomask_weight`` 0). With ``ctc_weight`` > 0 a CTC phoneme loss on the labelled train split is added
(:mod:`.phoneme_ctc`). The result is saved as a fitedge checkpoint folder (the backbone; the
pre-training heads ride along in ``heads.safetensors``) that ``fitedge distill --teacher`` accepts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.checkpoints.folder import save_checkpoint
from fitedge.distill.data.datasets import AudioDataset, AudioItem, BucketBatchSampler, collate_audio
from fitedge.distill.data.mfcc import UnitLabeler, fit_units
from fitedge.distill.models.config import EncoderConfig
from fitedge.distill.models.encoder import Encoder, build_encoder
from fitedge.distill.train.config import PretrainConfig
from fitedge.distill.train.masking import span_mask
from fitedge.distill.train.phoneme_ctc import PhonemeTargets, batch_targets, ctc_phoneme_loss
from fitedge.distill.train.schedule import Schedule, build_optimizer, set_lr, warn_if_cut_short
from fitedge.errors import ConfigError

log = logging.getLogger(__name__)


class MaskedPredictionModel(nn.Module):
    """An :class:`Encoder` with HuBERT's pre-training parts: mask embedding, final projection, unit embeddings,
    and with ``phone_classes`` > 0 a linear CTC phoneme head on the last layer."""

    def __init__(self, encoder: Encoder, num_units: int, final_dim: int, logit_temp: float,
                 phone_classes: int = 0) -> None:
        super().__init__()
        if encoder.config.normalize_waveform:
            raise ConfigError("pre-training expects an encoder without waveform normalisation (as HuBERT Base)")
        dim = encoder.config.dim
        self.encoder = encoder
        self.mask_emb = nn.Parameter(torch.empty(dim).uniform_())
        self.final_proj = nn.Linear(dim, final_dim)
        self.label_embs = nn.Parameter(torch.empty(num_units, final_dim).uniform_())
        self.logit_temp = logit_temp
        self.phone_head = nn.Linear(dim, phone_classes) if phone_classes else None

    def forward(self, wav: Tensor, lengths: Tensor, mask_fn) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """Unit logits ``(batch, frames, units)``, the span mask, the valid-frame mask ``(batch, frames)`` and
        the phoneme logits (None without a phoneme head)."""
        enc = self.encoder
        features, frame_lengths = enc.feature_extractor(wav, lengths)
        x = enc.feature_projection(features)
        valid = torch.arange(x.shape[1])[None, :] < frame_lengths[:, None]
        masked = mask_fn(frame_lengths, x.shape[1]) & valid
        x = torch.where(masked[..., None], self.mask_emb.to(x.dtype), x)
        last, _, _ = enc.encoder(x, valid, frame_lengths)
        proj = nn.functional.normalize(self.final_proj(last), dim=-1)
        units = nn.functional.normalize(self.label_embs, dim=-1)
        phones = None if self.phone_head is None else self.phone_head(last)
        return proj @ units.T / self.logit_temp, masked, valid, phones

    def heads(self) -> dict[str, Tensor]:
        heads = {"mask_emb": self.mask_emb, "final_proj.weight": self.final_proj.weight,
                 "final_proj.bias": self.final_proj.bias, "label_embs": self.label_embs}
        if self.phone_head is not None:
            heads.update({"phone_head.weight": self.phone_head.weight, "phone_head.bias": self.phone_head.bias})
        return heads


class IndexedAudio(torch.utils.data.Dataset):
    """``(index, waveform)`` pairs of an :class:`AudioDataset`, so that a batch can look up its items' phonemes."""

    def __init__(self, dataset: AudioDataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[int, np.ndarray]:
        return index, self.dataset[index]


class UnitCollate:
    """Collate waveforms and their unit labels (computed on the cropped audio, so crops stay aligned), and with
    phoneme targets each row's CTC target (None for a crop)."""

    def __init__(self, labeler: UnitLabeler, items: Sequence[AudioItem] = (),
                 targets: PhonemeTargets | None = None) -> None:
        self.labeler, self.items, self.targets = labeler, items, targets

    def __call__(self, batch: Sequence[tuple[int, np.ndarray]]) -> tuple[Tensor, Tensor, Tensor, list]:
        indices, wavs = zip(*batch)
        wav, lengths = collate_audio(wavs)
        labels = [self.labeler.label_audio(w) for w in wavs]
        out = torch.full((len(wavs), max(len(x) for x in labels)), -100, dtype=torch.long)
        for row, x in enumerate(labels):
            out[row, : len(x)] = torch.from_numpy(x)
        phones = [] if self.targets is None else batch_targets(self.targets, indices, self.items, wavs)
        return wav, lengths, out, phones


@dataclass
class PretrainResult:
    out_dir: Path
    steps: int
    masked_accuracy: float  # on the validation audio
    unmasked_accuracy: float
    history: list[dict]


def pretrain(encoder_config: EncoderConfig, cfg: PretrainConfig, train: Sequence[AudioItem],
             valid: Sequence[AudioItem], out_dir: str | Path, progress: bool = False,
             targets: PhonemeTargets | None = None) -> PretrainResult:
    """Fit the MFCC units, train masked prediction, save a fitedge checkpoint to ``out_dir/teacher``.

    ``targets`` (the phonemes of ``train``, item for item) is required when ``cfg.ctc_weight`` > 0.
    """
    if cfg.ctc_weight > 0 and (targets is None or len(targets.labels) != len(train)):
        raise ConfigError("a CTC phoneme weight needs a labelled corpus: the phonemes of every training utterance")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    units_data = AudioDataset(train, max_samples=None, crop="none", seed=cfg.seed)
    order = np.random.default_rng(cfg.seed).permutation(len(units_data))
    labeler = fit_units((units_data[int(i)] for i in order), cfg.num_units, cfg.kmeans_frames, cfg.seed)
    np.save(out / "kmeans_centroids.npy", labeler.centroids)

    phone_classes = targets.classes if cfg.ctc_weight > 0 and targets is not None else 0
    model = MaskedPredictionModel(build_encoder(encoder_config), cfg.num_units, cfg.final_dim, cfg.logit_temp,
                                  phone_classes)
    optimizer = build_optimizer(model, cfg.lr, cfg.betas, cfg.eps, cfg.weight_decay)
    crop = int(cfg.crop_seconds * SAMPLE_RATE)
    dataset = AudioDataset(train, max_samples=crop, crop="random", seed=cfg.seed)
    sampler = BucketBatchSampler([min(i.num_samples, crop) for i in train],
                                 max_batch_samples=int(cfg.batch_seconds * SAMPLE_RATE), seed=cfg.seed)
    collate = UnitCollate(labeler, train, targets if phone_classes else None)
    loader = torch.utils.data.DataLoader(IndexedAudio(dataset), batch_sampler=sampler, collate_fn=collate)
    generator = torch.Generator().manual_seed(cfg.seed)

    def mask_fn(lengths: Tensor, frames: int) -> Tensor:
        return span_mask(lengths, frames, cfg.mask_start_prob, cfg.mask_span, generator)

    schedule = Schedule(cfg, cfg.max_minutes)
    bar = _progress_bar(cfg.max_steps, progress)
    history, step, epoch, start = [], 0, 0, time.monotonic()
    model.train()
    while not schedule.finished(step, time.monotonic() - start) and not _out_of_time(start, cfg.max_minutes):
        sampler.set_epoch(epoch)
        dataset.set_epoch(epoch)
        for wav, lengths, labels, phones in loader:
            set_lr(optimizer, schedule.lr(step, time.monotonic() - start))
            logits, masked, frames_valid, phone_logits = model(wav, lengths, mask_fn)
            loss, acc_m, acc_u = masked_prediction_loss(logits, labels, masked, frames_valid, cfg.unmasked_weight)
            ctc = None if phone_logits is None else ctc_phoneme_loss(phone_logits, frames_valid.sum(1), phones)
            if ctc is not None:
                loss = loss + cfg.ctc_weight * ctc
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            step += 1
            if step % cfg.log_every == 0 or step == cfg.max_steps:
                record = {"step": step, "loss": loss.item(), "masked_acc": acc_m, "unmasked_acc": acc_u,
                          "lr": optimizer.param_groups[0]["lr"], "elapsed_s": round(time.monotonic() - start, 1)}
                if ctc is not None:
                    record["ctc_loss"] = ctc.item()
                history.append(record)
                log.info("pretrain %s", record)
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", acc=f"{acc_m:.3f}")
            if schedule.finished(step, time.monotonic() - start) or _out_of_time(start, cfg.max_minutes):
                break
        epoch += 1
    bar.close()
    if not schedule.by_time and step < cfg.max_steps:
        warn_if_cut_short(step, cfg)
    acc_m, acc_u = evaluate_masked_prediction(model, valid, labeler, cfg, mask_fn)
    meta = {"pretrain": {**_jsonable(cfg), "steps": step, "valid_masked_accuracy": acc_m,
                         "valid_unmasked_accuracy": acc_u, "skipped_audio": dataset.skipped}}
    model.encoder.meta = {"source": str(out / "teacher"), "trained": True}
    save_checkpoint(model.encoder, out / "teacher", heads=model.heads(), meta=meta)
    (out / "pretrain_log.json").write_text(json.dumps({"history": history, **meta}, indent=1))
    return PretrainResult(out / "teacher", step, acc_m, acc_u, history)


def masked_prediction_loss(logits: Tensor, labels: Tensor, masked: Tensor, valid: Tensor,
                           unmasked_weight: float = 0.0) -> tuple[Tensor, float, float]:
    """Cross-entropy on masked frames (plus ``unmasked_weight`` x that on the others); accuracies on both kinds."""
    frames = min(logits.shape[1], labels.shape[1])
    logits, labels = logits[:, :frames], labels[:, :frames]
    has_label = labels >= 0
    on_masked = masked[:, :frames] & has_label
    on_unmasked = valid[:, :frames] & ~masked[:, :frames] & has_label
    loss = nn.functional.cross_entropy(logits[on_masked], labels[on_masked])
    if unmasked_weight > 0 and on_unmasked.any():
        loss = loss + unmasked_weight * nn.functional.cross_entropy(logits[on_unmasked], labels[on_unmasked])
    hits = logits.argmax(-1) == labels
    return loss, _mean(hits[on_masked]), _mean(hits[on_unmasked])


@torch.no_grad()
def evaluate_masked_prediction(model: MaskedPredictionModel, items: Sequence[AudioItem], labeler: UnitLabeler,
                               cfg: PretrainConfig, mask_fn) -> tuple[float, float]:
    """Masked and unmasked unit accuracy over ``items`` (eval mode, same masking as training)."""
    model.eval()
    crop = int(cfg.crop_seconds * SAMPLE_RATE)
    dataset = AudioDataset(items, max_samples=crop, crop="none", seed=cfg.seed)
    collate = UnitCollate(labeler)
    hits = np.zeros(2)
    counts = np.zeros(2)
    for start in range(0, len(dataset), 16):
        wav, lengths, labels, _ = collate([(i, dataset[i]) for i in range(start, min(start + 16, len(dataset)))])
        logits, masked, valid, _ = model(wav, lengths, mask_fn)
        frames = min(logits.shape[1], labels.shape[1])
        ok = (logits[:, :frames].argmax(-1) == labels[:, :frames])
        for slot, where in enumerate((masked[:, :frames], valid[:, :frames] & ~masked[:, :frames])):
            where = where & (labels[:, :frames] >= 0)
            hits[slot] += ok[where].sum().item()
            counts[slot] += where.sum().item()
    model.train()
    acc = hits / np.maximum(counts, 1)
    return float(acc[0]), float(acc[1])


def _mean(x: Tensor) -> float:
    return x.float().mean().item() if x.numel() else 0.0


def _out_of_time(start: float, minutes: float | None) -> bool:
    return minutes is not None and time.monotonic() - start > 60 * minutes


def _jsonable(cfg: PretrainConfig) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(cfg).items()}


def _progress_bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, unit="step", dynamic_ncols=True)
