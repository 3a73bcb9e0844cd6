"""What ``fitedge export`` is asked to do: one frozen, validated options object."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fitedge.audio import SAMPLE_RATE
from fitedge.edge.backends import BACKENDS
from fitedge.edge.bundle.thresholds import DEFAULT_INT8_MIN_COSINE, DEFAULT_MIN_DECISIONS
from fitedge.edge.stream.geometry import StreamGeometry
from fitedge.errors import ConfigError
from fitedge.extras import require
from fitedge.quantize.observers import AUTO, CALIBRATIONS

PRECISIONS = ("fp32", "int8")
INT8_MODES = ("auto", "plain")
EXECUTORCH_INT8_MODES = BACKENDS.for_runtime("executorch").int8_modes
LITERT_INT8_MODES = BACKENDS.for_runtime("litert").int8_modes
ONNX_INT8_MODES = BACKENDS.for_runtime("onnxruntime").int8_modes
MIN_SAMPLES = 400  # one frame of the conv front end's receptive field


@dataclass(frozen=True)
class ExportOptions:
    """Options of one export.

    Attributes:
        targets: artifact kinds: ``--targets`` names of :data:`~fitedge.edge.backends.BACKENDS` (``pte``,
            ``tflite``, ``onnx``; default: every registered backend).
        precisions: ``fp32`` and/or ``int8``.
        seconds: golden/static input length in seconds.
        dynamic: ``(min, max)`` samples for a bounded dynamic length (``.pte``, ``.onnx``; ``.tflite`` stays
            static), or ``None``.
        outputs: ``last``, ``all``, ``final_proj`` or layer indices ``4,8,12``.
        head: a CTC head file (``fitedge eval per --save-probe``): the artifacts also return its ``logits``,
            and the bundle gets its ``tokens.txt``; ``None``: no head.
        calib: calibration audio (folder, TSV, corpus) or ``None`` for the built-in espeak-ng set.
        calib_windows: most calibration windows used.
        calibration: how static int8 observes activation ranges: ``auto`` (each method the runtime's quantizer
            offers, the one closest to float on the held-out windows kept) or one method (``minmax``,
            ``histogram``, either with ``+bias-correction``, ``percentile``, ``entropy``;
            :mod:`fitedge.quantize.observers`).
        keep_float: module-name globs left float in every int8 recipe (overrides ``int8``).
        int8: ``auto`` (keep float the blocks whose int8 error stands out, then more until each artifact
            passes ``min_cosine``) or ``plain`` (every block in int8).
        min_cosine: int8 cosine floor against float on held-out audio.
        allow_degraded: keep an int8 artifact below ``min_cosine`` (flagged in the manifest) instead of failing.
        min_decisions: with a CTC head, in ``auto``: the share of held-out frames whose best token must be fp32's;
            an artifact below it is rebuilt with its runtime's closer int8 recipe (ExecuTorch and ONNX Runtime:
            ``dynamic``; LiteRT: ``dynamic-linears``), which is kept if closer. 0 turns it off.
        int8_costs: in ``auto``, time each block alone in float and int8 in each runtime exported to, so that the
            plan keeps float where that is faster and widens by int8 error per ms saved. Off by default: it lowers
            every screened block twice per runtime, and per-call overhead inflates small blocks' times.
        executorch_int8: ``static`` (default) or ``dynamic``.
        litert_int8: ``dynamic`` (default), ``static`` or ``dynamic-linears``.
        onnx_int8: ``static`` QDQ (default) or ``dynamic``.
        threads: threads for the built-in timing and the parity runs.
        timing_runs: runs of the built-in timing (0: skip it).
        force: replace an existing bundle.
        android: also copy the bundle to this folder (the demo app's assets).
        seed: draws a preset's random weights (a checkpoint ignores it).
        integer_io: keep the integer input that LiteRT's static int8 gives (its scale and zero point go into the
            manifest's ``input_quantization``); by default every artifact takes float32 audio and returns float32.
        etrecord: keep an ETRecord beside each ``.pte`` for ExecuTorch's Inspector (several times the program's
            size: 311 MB for fithubert's two, so off unless asked for).
        chunk_ms, left_ms, right_ms: size the input as one streaming window of this chunk and context (replaces
            ``seconds``) and record the ``streaming`` section in the manifest; ``None``: no streaming setting.
    """

    targets: tuple[str, ...] = field(default_factory=lambda: BACKENDS.targets)
    precisions: tuple[str, ...] = PRECISIONS
    seconds: float = 4.0
    dynamic: tuple[int, int] | None = None
    outputs: str = "last"
    head: str | None = None
    calib: str | None = None
    calib_windows: int = 16
    calibration: str = AUTO
    keep_float: tuple[str, ...] = ()
    int8: str = "auto"
    min_cosine: float = DEFAULT_INT8_MIN_COSINE
    allow_degraded: bool = False
    min_decisions: float = DEFAULT_MIN_DECISIONS
    int8_costs: bool = False
    executorch_int8: str = EXECUTORCH_INT8_MODES[0]
    litert_int8: str = LITERT_INT8_MODES[0]
    onnx_int8: str = ONNX_INT8_MODES[0]
    threads: int = 2
    timing_runs: int = 5
    force: bool = False
    android: Path | None = field(default=None)
    seed: int = 0
    etrecord: bool = False
    integer_io: bool = False
    chunk_ms: float | None = None
    left_ms: float = 0.0
    right_ms: float = 0.0

    def __post_init__(self) -> None:
        _check_subset("--targets", self.targets, BACKENDS.targets)
        _check_subset("--precision", self.precisions, PRECISIONS)
        for backend in map(BACKENDS.for_target, self.targets):
            unable = [p for p in self.precisions if p not in backend.precisions]
            if unable:
                raise ConfigError(f"--targets {backend.target}: {backend.name} builds "
                                  f"{', '.join(backend.precisions)} only, not {', '.join(unable)}")
        if self.input_samples < MIN_SAMPLES:
            raise ConfigError(f"--seconds {self.seconds} is too short: the model needs at least {MIN_SAMPLES} samples")
        if self.dynamic is not None:
            low, high = self.dynamic
            if not MIN_SAMPLES <= low < high:
                raise ConfigError(f"--dynamic {low}:{high}: needs {MIN_SAMPLES} <= MIN < MAX samples")
            if not low <= self.input_samples <= high:
                raise ConfigError(f"--seconds {self.seconds} ({self.input_samples} samples) lies outside --dynamic "
                                  f"{low}:{high}")
        if self.head is not None and self.outputs.strip() == "final_proj":
            raise ConfigError("--head and --outputs final_proj cannot go together: choose one head")
        if self.keep_float and "int8" not in self.precisions:
            raise ConfigError("--keep-float applies to int8 only; add int8 to --precision")
        if not 0.0 < self.min_cosine <= 1.0:
            raise ConfigError(f"--min-cosine must be in (0, 1], got {self.min_cosine}")
        if not 0.0 <= self.min_decisions <= 1.0:
            raise ConfigError(f"--min-decisions must be in [0, 1], got {self.min_decisions}")
        if self.int8 not in INT8_MODES:
            raise ConfigError(f"--int8 must be one of {', '.join(INT8_MODES)}, got {self.int8!r}")
        if self.calibration not in CALIBRATIONS:
            raise ConfigError(f"--calibration must be one of {', '.join(CALIBRATIONS)}, got {self.calibration!r}")
        if (self.executorch_int8 not in EXECUTORCH_INT8_MODES or self.litert_int8 not in LITERT_INT8_MODES
                or self.onnx_int8 not in ONNX_INT8_MODES):
            raise ConfigError(f"int8 modes: ExecuTorch {EXECUTORCH_INT8_MODES}, LiteRT {LITERT_INT8_MODES}, "
                              f"ONNX {ONNX_INT8_MODES}")
        if self.chunk_ms is None and (self.left_ms or self.right_ms):
            raise ConfigError("--left-ms/--right-ms need --chunk-ms")
        if self.threads < 1 or self.timing_runs < 0 or self.calib_windows < 1:
            raise ConfigError("--threads and --calib-windows must be >= 1, timing runs >= 0")

    def require_installed(self) -> None:
        """Raise the one-line :class:`MissingDependency` naming the extra of any target whose export packages
        (torch among them) are not installed; called before the exporter is imported, since it imports torch."""
        for backend in map(BACKENDS.for_target, self.targets):
            if backend.extra is not None:
                require(backend.extra, backend.title)

    @property
    def input_samples(self) -> int:
        return round(self.seconds * SAMPLE_RATE)

    def stream_geometry(self, config: Any) -> StreamGeometry | None:
        """The streaming window of ``--chunk-ms/--left-ms/--right-ms`` for a model of ``config`` (``None``: none)."""
        if self.chunk_ms is None:
            return None
        return StreamGeometry.of_model(config, self.chunk_ms, self.left_ms, self.right_ms)


def parse_dynamic(text: str | None) -> tuple[int, int] | None:
    """``MIN:MAX`` in samples (``16000:160000``) or seconds with an ``s`` (``1s:10s``)."""
    if not text:
        return None
    try:
        low, high = (_samples(v) for v in text.split(":"))
    except ValueError:
        raise ConfigError(f"--dynamic wants MIN:MAX in samples or seconds (16000:160000 or 1s:10s), got {text!r}") \
            from None
    return low, high


def parse_list(text: str | None) -> tuple[str, ...]:
    """A comma-separated option value as a tuple (empty for ``None``)."""
    return tuple(v.strip() for v in (text or "").split(",") if v.strip())


def _samples(value: str) -> int:
    value = value.strip()
    return round(float(value[:-1]) * SAMPLE_RATE) if value.endswith("s") else int(value)


def _check_subset(option: str, values: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise ConfigError(f"{option}: choose from {', '.join(allowed)}; got {', '.join(values) or 'nothing'}")
