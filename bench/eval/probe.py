"""A CTC phoneme-recognition probe on frozen features (SUPERB's PR task); its greedy decoder is in ``ctc.py``.

The probe sees ``(layers, frames, dim)`` features per utterance. With one layer it is a plain linear (or
small MLP) CTC head; with several it first learns a softmax-weighted sum of the layers, as SUPERB's
featurizer does. Features are standardised with train-split statistics (a fixed affine map, so a linear
probe stays linear) because raw hidden states differ in scale by orders of magnitude between models and
one learning rate would not suit them all.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import Tensor, nn

from fitedge.bench.eval.ctc import BLANK, collapse_ctc
from fitedge.distill.models.ctc_head import BLANK_TOKEN, CtcHead, Layer
from fitedge.errors import ConfigError, DataError

log = logging.getLogger(__name__)

PROBE_KINDS = ("linear", "mlp")


@dataclass(frozen=True)
class ProbeConfig:
    """How the probe is built and trained.

    Attributes:
        kind: ``linear`` (SUPERB PR) or ``mlp`` (``mlp_layers`` hidden ReLU layers of ``hidden`` units).
        hidden: width of the MLP's hidden layers.
        mlp_layers: hidden layers of the MLP (1 or 2).
        epochs: passes over the training features.
        batch_size: utterances per step.
        lr: Adam learning rate.
        seed: seed of initialisation and shuffling.
    """

    kind: str = "linear"
    hidden: int = 256
    mlp_layers: int = 1
    epochs: int = 30
    batch_size: int = 8
    lr: float = 1e-2
    seed: int = 0

    def __post_init__(self) -> None:
        if self.kind not in PROBE_KINDS:
            raise ConfigError(f"probe kind must be one of {PROBE_KINDS}, got {self.kind!r}")
        if self.mlp_layers not in (1, 2):
            raise ConfigError(f"mlp_layers must be 1 or 2, got {self.mlp_layers}")
        if min(self.epochs, self.batch_size, self.hidden) < 1 or self.lr <= 0:
            raise ConfigError("epochs, batch_size, hidden and lr must be positive")

    def to_dict(self) -> dict:
        return asdict(self)


class PhonemeProbe(nn.Module):
    """Layer weighting (when several layers), standardisation, then a linear or MLP CTC head."""

    def __init__(self, vocab: Sequence[str], layers: int, dim: int, mean: Tensor, std: Tensor,
                 config: ProbeConfig) -> None:
        super().__init__()
        self.vocab = list(vocab)
        self.config = config
        self.register_buffer("mean", mean)  # (layers, dim)
        self.register_buffer("std", std)
        self.layer_logits = nn.Parameter(torch.zeros(layers))
        classes = len(self.vocab) + 1  # + the CTC blank, index 0
        if config.kind == "linear":
            self.head = nn.Linear(dim, classes)
        else:
            blocks: list[nn.Module] = []
            width = dim
            for _ in range(config.mlp_layers):
                blocks += [nn.Linear(width, config.hidden), nn.ReLU()]
                width = config.hidden
            self.head = nn.Sequential(*blocks, nn.Linear(width, classes))

    @property
    def layer_weights(self) -> Tensor:
        return torch.softmax(self.layer_logits, dim=0)

    def forward(self, features: Tensor) -> Tensor:
        """``(batch, layers, frames, dim)`` features -> ``(batch, frames, classes)`` log-probabilities."""
        x = (features - self.mean[None, :, None, :]) / self.std[None, :, None, :]
        x = torch.einsum("l,bltd->btd", self.layer_weights, x)
        return self.head(x).log_softmax(dim=-1)

    @torch.inference_mode()
    def decode(self, features: Sequence[np.ndarray]) -> list[list[str]]:
        """Greedy CTC decoding: best class per frame, repeats collapsed, blanks dropped."""
        self.eval()
        hypotheses = []
        for f in features:
            best = self(torch.from_numpy(np.ascontiguousarray(f, dtype=np.float32))[None]).argmax(-1)[0].tolist()
            hypotheses.append(collapse_ctc(best, self.vocab))
        return hypotheses


def probe_head(probe: PhonemeProbe, layer: Layer, info: dict | None = None) -> CtcHead:
    """The deployable head of ``probe``: standardisation and layer weights folded into its first linear layer.

    ``sum_l w_l (h_l - m_l) / s_l`` followed by ``W x + b`` is ``W' [h_0 .. h_L] + b'`` with the column block
    ``l`` of ``W'`` equal to ``W * w_l / s_l`` and ``b' = b - sum_l W (w_l m_l / s_l)``. The head returns
    logits: the probe's log-softmax changes no frame's best class.
    """
    layers = list(probe.head) if isinstance(probe.head, nn.Sequential) else [probe.head]
    first = layers[0]
    with torch.no_grad():
        scale = probe.layer_weights[:, None] / probe.std  # (layers, dim)
        weight = (first.weight[:, None, :] * scale[None]).reshape(first.out_features, -1)
        bias = first.bias - (first.weight @ (scale * probe.mean).sum(0))
        folded = nn.Linear(weight.shape[1], weight.shape[0])
        folded.load_state_dict({"weight": weight, "bias": bias})
    net = nn.Sequential(folded, *copy.deepcopy(layers[1:])).eval()
    record = {"probe": probe.config.to_dict(),
              "layer_weights": [round(float(w), 6) for w in probe.layer_weights.detach()], **(info or {})}
    return CtcHead([BLANK_TOKEN, *probe.vocab], layer, net, record)


def encode_labels(phonemes: Sequence[str], vocab: Sequence[str]) -> list[int]:
    """Phoneme symbols -> class ids (1-based; 0 is the blank). Unknown symbols raise :class:`DataError`."""
    index = {p: i + 1 for i, p in enumerate(vocab)}
    missing = sorted({p for p in phonemes if p not in index})
    if missing:
        raise DataError(f"phonemes not in the corpus inventory: {' '.join(missing)}")
    return [index[p] for p in phonemes]


def train_probe(features: Sequence[np.ndarray], labels: Sequence[Sequence[str]], vocab: Sequence[str],
                config: ProbeConfig = ProbeConfig(),
                validate: Callable[[PhonemeProbe], float] | None = None) -> PhonemeProbe:
    """Train a CTC probe on frozen ``(layers, frames, dim)`` features of the training utterances.

    Args:
        features: one array per utterance, all with the same ``layers`` and ``dim``.
        labels: the phoneme sequence of each utterance.
        vocab: the phoneme inventory (the output classes besides the blank).
        config: probe shape and training settings.
        validate: returns an error rate of the probe on held-out data; when given it is called after
            every epoch from the second third of training on, and the best probe is kept.
    """
    if not features or len(features) != len(labels):
        raise DataError(f"need matching, non-empty features and labels ({len(features)} vs {len(labels)})")
    layers, _, dim = features[0].shape
    torch.manual_seed(config.seed)
    mean, std = _feature_statistics(features)
    probe = PhonemeProbe(vocab, layers, dim, mean, std, config)
    targets = [torch.tensor(encode_labels(p, vocab), dtype=torch.long) for p in labels]
    optimizer = torch.optim.Adam(probe.parameters(), lr=config.lr)
    ctc = nn.CTCLoss(blank=BLANK, zero_infinity=True)
    rng = np.random.default_rng(config.seed)
    lengths = np.array([f.shape[1] for f in features])
    best_rate, best_state = float("inf"), None
    for epoch in range(config.epochs):
        probe.train()
        total = 0.0
        for batch in _length_batches(lengths, config.batch_size, rng):
            x, frames = _pad([features[i] for i in batch])
            y = [targets[i] for i in batch]
            log_probs = probe(x).transpose(0, 1)  # CTCLoss wants (frames, batch, classes)
            loss = ctc(log_probs, torch.cat(y), frames, torch.tensor([len(t) for t in y]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        log.debug("probe epoch %d: ctc loss %.3f", epoch + 1, total / len(features))
        if validate is not None and epoch + 1 >= config.epochs // 3:
            rate = validate(probe)
            if rate < best_rate:
                best_rate, best_state = rate, copy.deepcopy(probe.state_dict())
    if best_state is not None:
        probe.load_state_dict(best_state)
        log.info("probe: best validation error rate %.3f", best_rate)
    return probe.eval()


def _length_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Batches of similar length (little padding to compute on), in a random order each epoch."""
    jittered = lengths + rng.uniform(0, 0.1 * lengths.max(), size=lengths.size)  # vary batches between epochs
    order = np.argsort(jittered, kind="stable")
    batches = [order[i:i + batch_size] for i in range(0, order.size, batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _feature_statistics(features: Sequence[np.ndarray]) -> tuple[Tensor, Tensor]:
    """Per-layer, per-dimension mean and std over all training frames (float64 sums: no drift)."""
    count = sum(f.shape[1] for f in features)
    total = sum(f.astype(np.float64).sum(axis=1) for f in features)
    squares = sum((f.astype(np.float64) ** 2).sum(axis=1) for f in features)
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0.0)) + 1e-5
    return torch.from_numpy(mean.astype(np.float32)), torch.from_numpy(std.astype(np.float32))


def _pad(features: Sequence[np.ndarray]) -> tuple[Tensor, Tensor]:
    """Zero-pad ``(layers, frames, dim)`` arrays to one batch; returns it and the frame counts."""
    frames = [f.shape[1] for f in features]
    layers, _, dim = features[0].shape
    batch = np.zeros((len(features), layers, max(frames), dim), dtype=np.float32)
    for i, f in enumerate(features):
        batch[i, :, : f.shape[1]] = f
    return torch.from_numpy(batch), torch.tensor(frames, dtype=torch.long)
