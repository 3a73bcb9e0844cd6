"""Training-audio input: decoding and resampling, file lists, cropping, bucketing, rank sharding, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from fitedge.audio import SAMPLE_RATE
from fitedge.distill.data.audio import read_audio
from fitedge.distill.data.datasets import AudioDataset, AudioItem, BucketBatchSampler, collate_audio, list_audio
from fitedge.errors import DataError


def _tone(seconds: float, rate: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize("rate", [22050, 8000, 16000])
def test_read_audio_resamples_to_16k_and_keeps_the_tone(tmp_path: Path, rate: int) -> None:
    path = tmp_path / "tone.wav"
    sf.write(path, _tone(1.0, rate), rate)
    wav = read_audio(path)
    assert wav.dtype == np.float32 and wav.ndim == 1
    assert abs(wav.shape[0] - SAMPLE_RATE) <= 1
    spectrum = np.abs(np.fft.rfft(wav))
    assert abs(np.argmax(spectrum) * SAMPLE_RATE / wav.shape[0] - 440) < 3  # the tone survives resampling


def test_read_audio_mixes_stereo_to_mono(tmp_path: Path) -> None:
    left, right = _tone(0.5, 16000), np.zeros(8000, np.float32)
    sf.write(tmp_path / "st.flac", np.stack([left, right], axis=1), 16000)
    wav = read_audio(tmp_path / "st.flac")
    np.testing.assert_allclose(wav, left / 2, atol=1e-3)


def test_read_audio_rejects_garbage_with_a_data_error(tmp_path: Path) -> None:
    (tmp_path / "bad.wav").write_bytes(b"not a riff header" * 10)
    with pytest.raises(DataError, match="bad.wav"):
        read_audio(tmp_path / "bad.wav")


def _tree(root: Path) -> None:
    (root / "spk1" / "ch1").mkdir(parents=True)
    (root / "spk2").mkdir()
    sf.write(root / "spk1" / "ch1" / "a.flac", _tone(0.5, 16000), 16000)
    sf.write(root / "spk1" / "b.wav", _tone(0.25, 8000), 8000)
    sf.write(root / "spk2" / "c.ogg", _tone(0.3, 22050), 22050, format="OGG", subtype="VORBIS")
    (root / "spk2" / "notes.txt").write_text("ignored")


def test_list_audio_folder_tree_and_tsv_agree(tmp_path: Path) -> None:
    _tree(tmp_path / "tree")
    from_tree = list_audio(tmp_path / "tree")
    assert [p.path.name for p in from_tree] == ["b.wav", "a.flac", "c.ogg"]  # sorted by path
    assert [p.num_samples for p in from_tree] == [4000, 8000, 4800]  # at 16 kHz, whatever the file's rate
    manifest = tmp_path / "m.tsv"
    manifest.write_text(f"{tmp_path / 'tree'}\n" + "".join(
        f"{i.path.relative_to(tmp_path / 'tree')}\t{i.num_samples}\n" for i in from_tree))
    assert list_audio(manifest) == from_tree


def test_list_audio_rejects_a_folder_without_audio(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no audio files"):
        list_audio(tmp_path)


def test_random_crop_is_bounded_seeded_and_varies_by_epoch(tmp_path: Path) -> None:
    sf.write(tmp_path / "long.wav", np.random.default_rng(0).uniform(-1, 1, 32000).astype(np.float32), 16000)
    full = read_audio(tmp_path / "long.wav")
    ds = AudioDataset(list_audio(tmp_path), max_samples=4000, seed=3)
    crops = []
    for epoch in range(4):
        ds.set_epoch(epoch)
        crop = ds[0]
        assert crop.shape == (4000,)
        start = int(np.argmin([np.abs(full[s : s + 4000] - crop).sum() for s in range(0, 28001)]))
        np.testing.assert_array_equal(full[start : start + 4000], crop)  # a contiguous window of the file
        crops.append(start)
    assert len(set(crops)) > 1
    again = AudioDataset(list_audio(tmp_path), max_samples=4000, seed=3)
    again.set_epoch(2)
    np.testing.assert_array_equal(again[0], full[crops[2] : crops[2] + 4000])
    assert AudioDataset(list_audio(tmp_path), max_samples=4000, crop="none")[0].shape == (4000,)


def test_corrupt_and_empty_files_are_skipped_and_counted(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / "garbage.wav").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "empty.wav").write_bytes(b"")
    sf.write(tmp_path / "silent.wav", np.zeros(0, np.float32), 16000)  # a valid header with no samples
    ds = AudioDataset(list_audio(tmp_path))
    loader = torch.utils.data.DataLoader(ds, batch_size=2, collate_fn=collate_audio, num_workers=2)
    seen = sum(int(wav.shape[0]) for wav, _ in loader)
    assert seen == len(ds)  # every slot got audio: bad files replaced, not crashed on
    assert ds.skipped == 3  # counted across the worker processes
    assert {p.name for p in ds.skipped_paths} == {"garbage.wav", "empty.wav", "silent.wav"}
    assert "skipped 3" in ds.report()


def test_collate_pads_with_zeros_and_reports_lengths() -> None:
    wav, lengths = collate_audio([np.ones(3, np.float32), np.ones(5, np.float32)])
    assert wav.shape == (2, 5) and lengths.tolist() == [3, 5]
    assert wav[0, 3:].abs().sum() == 0 and wav[0, :3].sum() == 3


def test_buckets_group_similar_lengths_and_respect_the_budget() -> None:
    rng = np.random.default_rng(0)
    lengths = rng.integers(1000, 50000, size=200).tolist()
    sampler = BucketBatchSampler(lengths, max_batch_samples=200000, seed=1)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(200))
    for batch in batches:
        assert len(batch) * max(lengths[i] for i in batch) <= 200000 or len(batch) == 1
    spread = np.mean([max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in batches])
    assert spread < 0.1 * (max(lengths) - min(lengths))  # length-bucketed, not random batches
    first = [list(b) for b in sampler]
    sampler.set_epoch(1)
    assert [list(b) for b in sampler] != first  # reshuffled per epoch
    sampler.set_epoch(0)
    assert [list(b) for b in sampler] == first  # and reproducible


def test_ranks_are_disjoint_cover_everything_and_match_one_process() -> None:
    lengths = np.random.default_rng(1).integers(100, 900, size=64).tolist()
    one = BucketBatchSampler(lengths, batch_size=8, seed=5)
    ranks = [BucketBatchSampler(lengths, batch_size=8, seed=5, rank=r, world_size=2) for r in range(2)]
    for s in [one, *ranks]:
        s.set_epoch(3)
    r0, r1 = list(ranks[0]), list(ranks[1])
    assert len(r0) == len(r1) == len(one) == 8
    flat0, flat1 = {i for b in r0 for i in b}, {i for b in r1 for i in b}
    assert not flat0 & flat1 and flat0 | flat1 == set(range(64))
    for whole, a, b in zip(one, r0, r1):
        assert sorted(whole) == sorted(a + b)  # each step: the ranks split the one-process batch


def test_resume_skips_done_batches() -> None:
    sampler = BucketBatchSampler(list(range(1, 41)), batch_size=4, seed=2)
    sampler.set_epoch(1)
    full = list(sampler)
    sampler.set_epoch(1, start_batch=3)
    assert list(sampler) == full[3:] and len(sampler) == len(full) - 3


def test_sampler_rejects_bad_arguments() -> None:
    with pytest.raises(DataError):
        BucketBatchSampler([1, 2, 3], batch_size=2, max_batch_samples=10)
    with pytest.raises(DataError):
        BucketBatchSampler([1, 2, 3], batch_size=2, rank=2, world_size=2)


def test_audio_item_from_manifest_is_absolute(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / "x.tsv").write_text(f"{tmp_path}\nspk1/b.wav\t4000\n")
    assert list_audio(tmp_path / "x.tsv") == [AudioItem(tmp_path / "spk1" / "b.wav", 4000)]


def test_manifest_survives_a_moved_corpus_and_rejects_bad_rows(tmp_path: Path) -> None:
    _tree(tmp_path)
    (tmp_path / "moved.tsv").write_text("/no/such/root\nspk1/b.wav\t4000\n")
    assert list_audio(tmp_path / "moved.tsv") == [AudioItem(tmp_path / "spk1" / "b.wav", 4000)]
    (tmp_path / "bad.tsv").write_text(f"{tmp_path}\nspk1/b.wav\n")
    with pytest.raises(DataError, match="bad.tsv:2"):
        list_audio(tmp_path / "bad.tsv")
