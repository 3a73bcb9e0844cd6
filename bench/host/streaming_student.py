"""A streaming-friendly student against the sliding-window baseline, side by side (issue 21, item 3).

A script, not a test. It distils students of a few presets from one teacher on one corpus for the same
training time (``fitedge distill``, each run skipped when its ``final/`` is there), then streams each eagerly on
the corpus's test utterances at the same algorithmic latencies and prints, per student and setting, the cosine
of the streamed frames against the student's own full-utterance output (mean and worst frame), both with the
windows zero-padded at the audio's edges (as ``fitedge.stream`` pads them: a chunked model's first windows start
at the audio's first sample, ``shift_start``) and cut to the audio (``trim_edges``), and the cosine of the
student's full-utterance prediction head against the teacher's last layer (did chunking cost quality?).

A model with chunked attention streams at chunks that are whole attention chunks, with its own left context
and no right context (:func:`~fitedge.edge.stream.geometry.model_stream_frames`); a full-attention model at the
same chunk, or a smaller chunk plus lookahead, with ``--left-ms`` of left context.

\b
    fitedge data synth --out corpus --minutes 6 --no-noise
    fitedge pretrain --data corpus --out pre --encoder tiny --steps auto --minutes 4
    python -m fitedge.bench.host.streaming_student --teacher pre/teacher --data corpus --out runs --minutes 5
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from fitedge.bench.host.streaming import FEED_SAMPLES, frame_cosines, measure_stream
from fitedge.edge.stream.geometry import StreamGeometry, is_chunked, model_stream_frames
from fitedge.edge.stream.stream import Stream, stream_all

STUDENTS = ("tiny", "tiny-edge", "tiny-stream")
LATENCY_CHUNKS_MS = (320.0, 640.0)  # chunk + right context: what a frame waits for, less the 5 ms of the front end


@dataclass(frozen=True)
class Row:
    """One student streamed at one setting; cosines over the frames of every test utterance."""

    student: str
    chunk_ms: float
    left_ms: float
    right_ms: float
    algorithmic_latency_ms: float
    window_samples: int
    padded_mean: float
    padded_worst: float
    trimmed_mean: float
    trimmed_worst: float
    rtf: float
    teacher_cosine: float


def distil(teacher: str, student: str, data: Path, out: Path, minutes: float, seed: int) -> Path:
    """``fitedge distill`` of ``student`` into ``out/student`` (skipped when its ``final/`` exists)."""
    final = out / student / "final"
    if not (final / "config.json").is_file():
        subprocess.run([sys.executable, "-m", "fitedge.cli", "distill", "--teacher", teacher, "--student", student,
                        "--data", str(data), "--out", str(out / student), "--steps", "auto", "--minutes", str(minutes),
                        "--batch-seconds", "20", "--crop-seconds", "4", "--seed", str(seed), "-q"], check=True)
    return final


def settings(config: Any, left_ms: float) -> list[tuple[float, float, float]]:
    """``(chunk, left, right)`` ms per latency: a chunked model's own; a full-attention model's chunk alone and,
    above the smallest chunk, the smallest chunk plus the rest as lookahead."""
    hop_ms = 1000.0 * config.frame_stride / config.sample_rate
    frames = model_stream_frames(config)
    if frames is not None:
        chunk, left, _ = frames
        own = chunk * hop_ms
        return [(c, left * hop_ms, 0.0) for c in LATENCY_CHUNKS_MS if c % own == 0]
    smallest = LATENCY_CHUNKS_MS[0]
    return [(c, left_ms, 0.0) for c in LATENCY_CHUNKS_MS] + \
        [(smallest, left_ms, c - smallest) for c in LATENCY_CHUNKS_MS if c > smallest]


def measure(name: str, student: Path, teacher: Any, wavs: list[np.ndarray], left_ms: float,
            threads: int) -> list[Row]:
    """Every setting of one student, over every utterance."""
    from fitedge.distill.checkpoints.folder import read_checkpoint
    from fitedge.distill.models.heads import build_final_proj
    from fitedge.edge import runtime

    checkpoint = read_checkpoint(student)
    runner = runtime.load(str(student), threads=threads)
    config = runner.module.encoder.config
    head = runtime.load(str(student), threads=threads, outputs="final_proj",
                        head=build_final_proj(checkpoint.heads, config, str(student)))
    fulls = [runner.run(wav)["last_hidden_state"][0] for wav in wavs]
    teacher_cos = np.concatenate([_cropped_cosines(head.run(w)["final_proj"][0], teacher.run(w)["last_hidden_state"][0])
                                  for w in wavs])
    rows = []
    for chunk_ms, left, right in settings(config, left_ms):
        geometry = StreamGeometry.of_model(config, chunk_ms, left, right)
        padded = [measure_stream(runner, geometry, w, {"last_hidden_state": f}, is_chunked(config))
                  for w, f in zip(wavs, fulls)]
        trimmed = np.concatenate([frame_cosines(stream_all(Stream(runner, geometry, trim_edges=True), w,
                                                           FEED_SAMPLES)["last_hidden_state"], f)
                                  for w, f in zip(wavs, fulls)])
        frames = np.array([p["frames"] for p in padded])
        rows.append(Row(name, chunk_ms, left, right, geometry.algorithmic_latency_ms, geometry.window_samples,
                        float(np.average([p["cosine_mean"] for p in padded], weights=frames)),
                        float(min(p["cosine_worst"] for p in padded)), float(trimmed.mean()), float(trimmed.min()),
                        float(np.mean([p["rtf"] for p in padded])), float(teacher_cos.mean())))
    return rows


def _cropped_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    # The head and the teacher may differ by a frame at the end (time reduction), as in the distillation loss.
    n = min(len(a), len(b))
    return frame_cosines(a[:n], b[:n])


def format_table(rows: list[Row], cpu: str, utterances: int, seconds: float) -> str:
    lines = [f"on {cpu}, {utterances} test utterances ({seconds:.1f} s); cosine of streamed frames against the "
             "student's own full-utterance output; teacher cos: full-utterance prediction head vs teacher last layer",
             f"{'student':12s} {'chunk':>6s} {'left':>6s} {'right':>6s} {'algo ms':>8s} {'window':>7s} "
             f"{'padded mean':>11s} {'worst':>8s} {'trimmed mean':>12s} {'worst':>8s} {'RTF':>6s} {'teacher cos':>11s}"]
    for r in sorted(rows, key=lambda r: (r.algorithmic_latency_ms, r.student)):
        lines.append(f"{r.student:12s} {r.chunk_ms:6g} {r.left_ms:6g} {r.right_ms:6g} {r.algorithmic_latency_ms:8.0f} "
                     f"{r.window_samples:7d} {r.padded_mean:11.5f} {r.padded_worst:8.5f} {r.trimmed_mean:12.5f} "
                     f"{r.trimmed_worst:8.5f} {r.rtf:6.3f} {r.teacher_cosine:11.4f}")
    return "\n".join(lines)


@click.command()
@click.option("--teacher", required=True, help="Teacher checkpoint (e.g. a `fitedge pretrain` run's teacher/).")
@click.option("--data", required=True, type=click.Path(path_type=Path, exists=True, file_okay=False),
              help="Corpus folder: train split for distillation, test split for the measurement.")
@click.option("--out", required=True, type=click.Path(path_type=Path, file_okay=False), help="Run folders.")
@click.option("--students", default=",".join(STUDENTS), show_default=True, help="Student presets, comma-separated.")
@click.option("--minutes", default=5.0, show_default=True, type=float, help="Distillation time per student.")
@click.option("--utterances", default=6, show_default=True, type=click.IntRange(min=1), help="Test utterances.")
@click.option("--left-ms", default=1280.0, show_default=True, type=float, help="Left context of full-attention models.")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
def main(teacher: str, data: Path, out: Path, students: str, minutes: float, utterances: int, left_ms: float,
         threads: int, seed: int) -> None:
    from fitedge.distill.data.audio import read_audio
    from fitedge.distill.data.corpus import load_split
    from fitedge.edge import runtime
    from fitedge.files import write_json
    from fitedge.host import describe_cpu

    names = [s.strip() for s in students.split(",") if s.strip()]
    finals = {name: distil(teacher, name, data, out, minutes, seed) for name in names}
    wavs = [read_audio(u.path) for u in load_split(data, "test")[:utterances]]
    teacher_runner = runtime.load(teacher, threads=threads)
    rows = [row for name, final in finals.items()
            for row in measure(name, final, teacher_runner, wavs, left_ms, threads)]
    cpu = describe_cpu()
    write_json(out / "streaming_student.json", {"cpu": cpu, "threads": threads, "rows": [asdict(r) for r in rows]})
    click.echo(format_table(rows, f"{cpu['class']} ({cpu['model']}), {threads} threads", len(wavs),
                            sum(len(w) for w in wavs) / 16000))


if __name__ == "__main__":
    main()
