"""A tiny espeak-ng corpus built with the project's own synth API, and an encoder trained on its phonemes."""

from __future__ import annotations

from pathlib import Path

from fitedge.distill.data.synthesis import SynthConfig, synthesize_corpus

VOICES = ("en-us+m3", "en-us+f3", "en-gb+m2", "en-us+klatt", "en-029+f2")


def tiny_corpus(out: Path, minutes: float = 1.6) -> Path:
    """About 20 clean train utterances over 3 voices; one unseen voice each for valid and test."""
    config = SynthConfig(minutes=minutes, seed=11, voices=VOICES, valid_voices=1, test_voices=1, noise=False,
                         noise_share=0.0, reverb_share=0.0)
    synthesize_corpus(out, config)
    return out


def phonetic_tiny_encoder(corpus: Path, steps: int = 40, seed: int = 0):
    """A ``tiny`` encoder trained for a few CTC steps on the corpus's phonemes, so that its features carry
    phonetic information (a randomly initialised one gives a probe nothing: PER above 100%)."""
    import numpy as np
    import torch

    from fitedge.bench.eval.probe import encode_labels
    from fitedge.distill.data.audio import read_audio
    from fitedge.distill.data.corpus import load_split, phoneme_inventory
    from fitedge.distill.data.datasets import collate_audio
    from fitedge.distill.models.config import preset
    from fitedge.distill.models.encoder import build_encoder

    torch.manual_seed(seed)
    encoder = build_encoder(preset("tiny").replace(dropout=0.0, attention_dropout=0.0, feature_dropout=0.0))
    train, vocab = load_split(corpus, "train"), phoneme_inventory(corpus)
    wavs = [read_audio(u.path) for u in train]
    labels = [torch.tensor(encode_labels(u.phonemes, vocab)) for u in train]
    head = torch.nn.Linear(encoder.config.dim, len(vocab) + 1)
    optimizer = torch.optim.Adam([*encoder.parameters(), *head.parameters()], lr=3e-3)
    ctc = torch.nn.CTCLoss(zero_infinity=True)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        batch = rng.choice(len(train), size=min(6, len(train)), replace=False)
        wav, lengths = collate_audio([wavs[i] for i in batch])
        out = encoder(wav, lengths)
        log_probs = head(out.last_hidden_state).log_softmax(-1).transpose(0, 1)
        loss = ctc(log_probs, torch.cat([labels[i] for i in batch]), out.lengths,
                   torch.tensor([len(labels[i]) for i in batch]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return encoder.eval()
