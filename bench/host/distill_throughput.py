"""Training throughput of distillation: audio-seconds per second and peak memory, to project the real recipe's cost.

A script, not a test. It runs the real trainer (:func:`fitedge.distill.train.distillation.distill`) for a few steps on
generated audio with the paper's shapes (a ``fithubert`` student, a ``hubert-base``-shaped teacher; weights
random, which does not change the arithmetic), drops the warm-up steps and reports from the run log.

\b
CPU (a few steps):
    python -m fitedge.bench.host.distill_throughput --device cpu --steps 4
GPU (a few hundred steps with AMP; the paper used fp16, bf16 suits Ampere and later):
    python -m fitedge.bench.host.distill_throughput --device cuda --steps 300 --amp bf16 --batch-seconds 45 --workers 4

The projection divides LibriSpeech 960 h by the measured rate: hours per epoch on this device and process count.
"""

from __future__ import annotations

import json
import resource
import tempfile
import time
from pathlib import Path

import click
import numpy as np

from fitedge.audio import SAMPLE_RATE

LIBRISPEECH_HOURS = 960.0


def _write_audio(folder: Path, count: int, seconds: float, seed: int) -> None:
    from fitedge.distill.data.audio import write_audio

    rng = np.random.default_rng(seed)
    for i in range(count):
        # Band-limited noise bursts: content does not change the arithmetic, only the length does.
        wav = rng.standard_normal(int(seconds * SAMPLE_RATE)).astype(np.float32) * 0.1
        write_audio(folder / f"utt{i:03d}.wav", np.convolve(wav, np.ones(4) / 4, mode="same"))


def measure(device: str, steps: int, warmup: int, batch_seconds: float, utterance_seconds: float, amp: str,
            teacher: str, student: str, threads: int | None, workers: int = 0) -> dict:
    """Run ``warmup + steps`` training steps and summarise the timed ones."""
    import torch

    from fitedge.distill.data.datasets import list_audio
    from fitedge.distill.models.config import preset
    from fitedge.distill.models.encoder import build_encoder
    from fitedge.distill.train.distillation import DistillConfig, distill
    from fitedge.distill.train.distributed import setup_distributed
    from fitedge.distill.train.run_log import read_log

    if threads:
        torch.set_num_threads(threads)
    env = setup_distributed(device)
    torch.manual_seed(0)
    teacher_model, student_model = build_encoder(preset(teacher)), build_encoder(preset(student))
    per_batch = max(1, int(batch_seconds // utterance_seconds))
    with tempfile.TemporaryDirectory() as tmp:
        audio = Path(tmp) / "audio"
        audio.mkdir()
        _write_audio(audio, per_batch * (steps + warmup), utterance_seconds, seed=0)
        cfg = DistillConfig(max_steps=steps + warmup, batch_seconds=batch_seconds, crop_seconds=None, amp=amp,
                            log_every=1, save_every=10**9, num_workers=workers)
        if env.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        start = time.monotonic()
        distill(teacher_model, student_model, list_audio(audio), [], cfg, Path(tmp) / "run", env)
        wall = time.monotonic() - start
        log = [r for r in read_log(Path(tmp) / "run" / "log.jsonl") if r["kind"] == "train"]
    timed = log[warmup:]
    seconds = timed[-1]["time"] - log[warmup - 1]["time"] if warmup else timed[-1]["time"]
    audio_seconds = sum(r["audio_seconds"] for r in timed)
    rate = audio_seconds / seconds
    result = {
        "device": torch.cuda.get_device_name(env.device) if env.device.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(), "processes": env.world_size, "teacher": teacher, "student": student,
        "student_params": sum(p.numel() for p in student_model.parameters()),
        "amp": amp if env.device.type == "cuda" else "none (CPU)", "batch_audio_seconds": batch_seconds,
        "utterance_seconds": utterance_seconds, "loader_workers": workers, "timed_steps": len(timed),
        "warmup_steps": warmup,
        "step_seconds": seconds / len(timed), "audio_seconds_per_second": rate,
        "peak_host_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "wall_seconds": wall,
        "librispeech_960h_hours_per_epoch": LIBRISPEECH_HOURS * 3600 / rate / 3600,
    }
    if env.device.type == "cuda":
        result["peak_gpu_memory_mib"] = torch.cuda.max_memory_allocated(env.device) / 2**20
    return result


@click.command()
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="cpu", show_default=True)
@click.option("--steps", default=4, show_default=True, type=click.IntRange(min=1), help="Timed steps.")
@click.option("--warmup", default=1, show_default=True, type=click.IntRange(min=0), help="Untimed first steps.")
@click.option("--batch-seconds", default=16.0, show_default=True, type=float, help="Audio per step (padding incl.).")
@click.option("--utterance-seconds", default=4.0, show_default=True, type=float)
@click.option("--amp", type=click.Choice(["fp16", "bf16", "none"]), default="bf16", show_default=True)
@click.option("--teacher", default="hubert-base", show_default=True, help="Teacher preset.")
@click.option("--student", default="fithubert", show_default=True, help="Student preset.")
@click.option("--threads", type=int, help="CPU threads.")
@click.option("--workers", default=0, show_default=True, type=click.IntRange(min=0),
              help="DataLoader processes decoding audio (0: the training process; a GPU wants a few).")
def main(device: str, steps: int, warmup: int, batch_seconds: float, utterance_seconds: float, amp: str,
         teacher: str, student: str, threads: int | None, workers: int) -> None:
    """Measure distillation throughput and print it as JSON."""
    click.echo(json.dumps(measure(device, steps, warmup, batch_seconds, utterance_seconds, amp, teacher, student,
                                  threads, workers), indent=2))


if __name__ == "__main__":
    main()
