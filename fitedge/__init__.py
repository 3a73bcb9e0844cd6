"""fitedge: distil HuBERT-family speech encoders into FitHuBERT students and take them to the phone.

``fitedge.load(source)`` is the entry point: a preset name, a fitedge checkpoint folder, or any
checkpoint ``fitedge import`` reads (transformers, fairseq, torchaudio, official FitHuBERT). The other steps
have one call each, the library functions behind the command line: ``fitedge.export`` (``fitedge export``),
``fitedge.benchmark`` (``fitedge bench``) and ``fitedge.evaluate`` (``fitedge eval per``). Each imports
what it needs when called, so ``import fitedge`` stays light (no torch).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from fitedge.version import __version__

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from fitedge.bench.eval.per import PerReport
    from fitedge.distill.models.config import EncoderConfig
    from fitedge.distill.models.encoder import Encoder
    from fitedge.edge.stream.stream import Stream


def load(source: str | Path, format: str | None = None, seed: int = 0, *, heads: int | None = None,
         config: EncoderConfig | str | Path | None = None, guess: bool = False) -> Encoder:
    """Load an encoder from a preset name or a checkpoint path of any supported format.

    A preset has random weights drawn from ``seed`` (0 by default), so ``load("fithubert")`` is the same model
    every time; a checkpoint ignores ``seed``. ``heads``, ``config`` (an :class:`EncoderConfig` or its JSON
    file) and ``guess`` complete what a checkpoint file does not state, as ``fitedge import --heads/--config/
    --guess`` do: a torchaudio state dict does not say its number of attention heads.

    Example::

        enc = fitedge.load("wav2vec2_small.pth", heads=4)   # a torchaudio state dict
    """
    from fitedge.extras import require

    require("torch", "fitedge.load (the eager model)")
    from fitedge.distill.checkpoints.infer_config import ConfigFacts, read_config_file
    from fitedge.distill.checkpoints.source import load_encoder

    if isinstance(config, str | PurePath):
        config = read_config_file(config)
    return load_encoder(source, format=format, seed=seed, facts=ConfigFacts(heads, config, guess))


def export(model: str | Path, out: str | Path, *, progress: Callable[[str], None] | None = None,
           **options: Any) -> dict[str, Any]:
    """Export ``model`` into the verified bundle folder ``out``, as ``fitedge export`` does; returns its manifest.

    ``model`` is a preset, a fitedge folder or any checkpoint ``fitedge.load`` reads (save an in-memory encoder
    with ``Encoder.save_pretrained`` first). ``options`` are the fields of
    :class:`fitedge.edge.export.options.ExportOptions`, the command's options by their Python names
    (``targets``, ``precisions``, ``seconds``, ``outputs``, ``calib``, ``threads``, ``force``, ...); ``progress``
    receives the progress lines. A failed parity check raises, and nothing is written.

    Example::

        manifest = fitedge.export("tiny", "bundle/", targets=("onnx",), precisions=("fp32",), seconds=1.0)
        manifest["artifacts"][0]["file"]        # 'tiny_fp32.onnx', with its sha256, parity and latency
    """
    from fitedge.edge.export.options import ExportOptions, parse_list

    for name in ("targets", "precisions", "keep_float"):  # "onnx,pte" as on the command line, or a tuple
        if isinstance(options.get(name), str):
            options[name] = parse_list(options[name])
    export_options = ExportOptions(**options)
    export_options.require_installed()  # one line naming the extra, before the exporter imports torch
    from fitedge.edge.export.pipeline import export_bundle

    return export_bundle(model, out, export_options, progress=progress)


def stream(target: Any, *, chunk_ms: float | None = None, left_ms: float | None = None,
           right_ms: float | None = None, threads: int | None = None, trim_edges: bool = False,
           fill_edges: bool = False, **options: Any) -> Stream:
    """A live stream over a bundle, an artifact file or a model run eagerly, as ``fitedge stream`` measures it.

    ``target`` is a bundle folder (its first artifact), a ``.pte``/``.tflite``/``.onnx`` file in a bundle, an
    :class:`Encoder` or a model source (preset, checkpoint). The chunk and the left/right context are in ms,
    rounded to whole frames; ``None`` takes a static artifact's own settings (``fitedge export --chunk-ms``), the
    setting a chunked-attention model reproduces exactly (``tiny-stream``: 320/960/0), or 640/1280/320 ms. A static
    artifact streams only with the settings whose window is its input length. Windows are zero-padded at the
    audio's edges, as on the phone (a chunked-attention model's first windows start at the audio's first sample
    instead, where the padding changes none of its frames); ``trim_edges`` cuts them to the audio instead (eager
    and dynamic artifacts only), and ``fill_edges`` keeps every window inside it at the cost of the first frame's
    latency (a model that attends to everything needs one of them to match its full-utterance output).
    ``options`` go to :func:`fitedge.edge.runtime.load` (``outputs=`` for eager).

    Example::

        s = fitedge.stream("bundle/tiny_fp32.onnx", chunk_ms=320, left_ms=1280, right_ms=320)
        for piece in pieces:                 # 16 kHz float32 audio as it arrives
            s.accept_waveform(piece)
            frames = s.read()["last_hidden_state"]   # (new final frames, dim)
        s.input_finished(); tail = s.read()
    """
    from fitedge.edge.stream.source import StreamSettings, open_stream

    return open_stream(target, StreamSettings(chunk_ms, left_ms, right_ms, fill_edges), threads, trim_edges, **options)


def benchmark(*targets: str | Path, reference: str | None = None, export_models: bool = True,
              bundles: str | Path | None = None, out: str | Path | None = None, **matrix: Any) -> dict[str, Any]:
    """Benchmark bundles, artifact files or models, as ``fitedge bench run`` does; returns the results document.

    ``matrix`` are the fields of :class:`fitedge.bench.host.settings.MatrixSettings` (``seconds``, ``threads``,
    ``warmup``, ``iters``, ``timeout_s``, ``processes``), with its defaults, which are also the command's.
    Each artifact x length x thread count runs in ``processes`` fresh processes (load, first inference,
    ``warmup`` untimed and ``iters`` timed runs each); the one with the median p50 is recorded. Thread counts
    are always explicit, as in the command, because every number is recorded per thread count. A model target
    is exported on the fly (into ``bundles`` to keep them, else a temporary folder), or timed in eager PyTorch
    only with ``export_models=False``. ``out`` also gets results.json, results.md and the plots. (Named
    ``benchmark``: ``fitedge.bench`` is the subpackage.)

    Example::

        results = fitedge.benchmark("bundle/", seconds=(1.0,), threads=(1, 2), iters=10)
        [(r["artifact"], r["threads"], r["latency"]["p50"]) for r in results["runs"]]
    """
    import tempfile
    from pathlib import Path

    from fitedge.bench.benchmark import BenchConfig, run_benchmark
    from fitedge.bench.host.onthefly import BundleExporter
    from fitedge.bench.host.settings import MatrixSettings

    for name in ("seconds", "threads"):  # a list, as a caller may pass, or a tuple
        if name in matrix:
            matrix[name] = tuple(matrix[name])
    settings = MatrixSettings(**matrix)
    config = BenchConfig(targets=tuple(str(t) for t in targets), reference=reference, matrix=settings)
    with tempfile.TemporaryDirectory(prefix="fitedge-bench-") as tmp:
        exporter = BundleExporter(Path(bundles or tmp), seconds=settings.seconds, threads=max(settings.threads),
                                  reuse=bundles is not None) if export_models else None
        doc = run_benchmark(config, exporter)
    if out is not None:
        from fitedge.bench.report.tables import write_results_folder

        write_results_folder(doc, Path(out))
    return doc


def evaluate(model_or_artifact: str | Path, corpus: str | Path, *, layer: str | int = "last", probe: str = "linear",
             hidden: int = 256, epochs: int = 30, lr: float = 1e-2, max_train: int | None = None,
             max_test: int | None = None, seed: int = 0, threads: int | None = None,
             progress: bool = False) -> PerReport:
    """Phoneme error rate of a model or an exported artifact with a CTC probe, as ``fitedge eval per`` does.

    ``model_or_artifact`` is ``mfcc`` (the floor), a ``.pte``/``.tflite``/``.onnx`` file (run in its runtime,
    so int8 is judged as deployed) or any model ``fitedge.load`` reads; ``corpus`` a labelled corpus folder
    (``fitedge data synth``). The probe (``linear`` or ``mlp`` of ``hidden`` units) trains on the train split,
    keeps its best epoch on valid and is scored on test. ``threads=None`` leaves the runtimes' own defaults.

    Example::

        report = fitedge.evaluate("bundle/tiny_int8.onnx", "corpus/", max_train=200)
        report.per, (report.ci_low, report.ci_high)     # fractions; report.summary() as a line
    """
    from fitedge.bench.eval.features import parse_layer
    from fitedge.bench.eval.per import EvalSettings, evaluate_per
    from fitedge.bench.eval.probe import ProbeConfig

    probe_config = ProbeConfig(kind=probe, hidden=hidden, epochs=epochs, lr=lr, seed=seed)
    settings = EvalSettings(max_train=max_train, max_test=max_test, seed=seed)
    return evaluate_per(model_or_artifact, corpus, parse_layer(layer), probe_config, settings, threads,
                        progress=progress)


def __getattr__(name: str) -> Any:
    # ``fitedge.Encoder`` (for ``Encoder.from_pretrained``) without importing torch on ``import fitedge``.
    if name == "Encoder":
        from fitedge.distill.models.encoder import Encoder

        return Encoder
    raise AttributeError(f"module 'fitedge' has no attribute {name!r}")


__all__ = ["__version__", "Encoder", "benchmark", "evaluate", "export", "load", "stream"]
