"""One way to run every artifact: ``load(target, threads) -> Runner`` with ``runner.run(wav) -> {name: array}``.

Cross-team contract 1. ``target`` is a ``.pte`` (ExecuTorch), ``.tflite`` (LiteRT, ``tflite_runtime`` as a
fallback), ``.onnx`` (ONNX Runtime) file, or an :class:`Encoder` / model source (preset name or checkpoint
path) run eagerly in PyTorch. Output names come from the bundle's ``manifest.json`` beside the file when
there is one (the runtimes' own names are positional), and the input length is checked before running.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from fitedge.console import third_party_output
from fitedge.edge.bundle import manifest as mf
from fitedge.errors import BundleError, ConfigError, ExportError, MissingDependency, ShapeMismatch, one_line
from fitedge.extras import TARGET_EXTRAS, install_hint
from fitedge.threads import torch_threads

log = logging.getLogger(__name__)
# The one table of artifact kinds: file suffix -> runtime, and the package whose version the manifest records.
RUNTIMES = {".pte": "executorch", ".tflite": "litert", ".onnx": "onnxruntime"}
RUNTIME_PACKAGES = {"executorch": "executorch", "litert": "ai-edge-litert", "onnxruntime": "onnxruntime"}


class Runner:
    """A loaded model. Subclasses implement :meth:`_run` on a ``(1, samples)`` float32 array.

    Attributes:
        runtime: ``eager``, ``executorch``, ``litert`` or ``onnxruntime``.
        input_samples: the fixed input length, or ``None`` when the length is dynamic.
        min_samples, max_samples: bounds of a dynamic length (``None`` when static or unbounded).
        length_grid: ``(multiple, offset)`` of a dynamic artifact: it takes ``offset + multiple * k`` samples,
            and :meth:`run` crops other lengths down to that grid. The cropped tail fills no output frame; a
            GroupNorm front end (HuBERT Base family) normalises over time, so its statistics shift slightly.
        output_names: names of the returned arrays, in order.
        path: the artifact file (``None`` for eager).
    """

    runtime = ""

    def __init__(self, path: Path | None, input_samples: int | None, output_names: list[str],
                 min_samples: int | None = None, max_samples: int | None = None,
                 length_grid: tuple[int, int] | None = None) -> None:
        self.path = path
        self.input_samples = input_samples
        self.min_samples, self.max_samples = min_samples, max_samples
        self.length_grid = tuple(length_grid) if length_grid else None
        self.output_names = output_names

    def run(self, wav: np.ndarray) -> dict[str, np.ndarray]:
        """Run on ``wav`` (float32, ``(samples,)`` or ``(1, samples)``); returns ``{output name: array}``."""
        x = np.ascontiguousarray(np.asarray(wav, dtype=np.float32))
        if x.ndim == 1:
            x = x[None, :]
        if x.ndim != 2 or x.shape[0] != 1:
            raise ShapeMismatch(f"expected audio of shape (samples,) or (1, samples), got {x.shape}")
        self._check_length(x.shape[1])
        if self.length_grid is not None:
            multiple, offset = self.length_grid
            x = x[:, : offset + multiple * ((x.shape[1] - offset) // multiple)]  # capture.on_grid, without torch
        outputs = self._run(x)
        if len(outputs) != len(self.output_names):
            raise ExportError(f"{self.path}: returned {len(outputs)} outputs, expected {len(self.output_names)}")
        return {name: np.asarray(o, dtype=np.float32) for name, o in zip(self.output_names, outputs)}

    def _check_length(self, n: int) -> None:
        if self.input_samples is not None and n != self.input_samples:
            raise ShapeMismatch(f"{self.path or self.runtime}: takes exactly {self.input_samples} samples, got {n}")
        if self.min_samples is not None and n < self.min_samples:
            raise ShapeMismatch(f"{self.path or self.runtime}: takes at least {self.min_samples} samples, got {n}")
        if self.max_samples is not None and n > self.max_samples:
            raise ShapeMismatch(f"{self.path or self.runtime}: takes at most {self.max_samples} samples, got {n}")

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.runtime} {self.path or ''} outputs={self.output_names}>"


class EagerRunner(Runner):
    """PyTorch eager execution of a :class:`~fitedge.distill.models.deployable.DeployableEncoder`."""

    runtime = "eager"

    def __init__(self, module: Any, output_names: list[str], input_samples: int | None, threads: int | None) -> None:
        super().__init__(None, input_samples, output_names)
        self.module = module
        self.threads = threads

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        import torch

        with torch_threads(self.threads), torch.inference_mode():
            return [t.numpy() for t in self.module(torch.from_numpy(x))]


class ExecuTorchRunner(Runner):
    runtime = "executorch"

    def __init__(self, path: Path, threads: int | None, **kw: Any) -> None:
        from executorch.runtime import Runtime

        _set_executorch_threads(threads)
        program = Runtime.get().load_program(path)
        self.method = program.load_method("forward")
        meta = self.method.metadata
        n_out = meta.num_outputs()
        sizes = list(meta.input_tensor_meta(0).sizes())
        super().__init__(path, **_io_from_manifest(path, n_out, sizes[1], kw))

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        import torch

        return [t.numpy() for t in self.method.execute([torch.from_numpy(x)])]


class LiteRTRunner(Runner):
    runtime = "litert"

    def __init__(self, path: Path, threads: int | None, **kw: Any) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:  # old single-board computers only have the predecessor
            from tflite_runtime.interpreter import Interpreter
        self.interpreter = Interpreter(model_path=str(path), num_threads=threads or None)
        signatures = self.interpreter.get_signature_list()
        key = next(iter(signatures))
        self.signature = self.interpreter.get_signature_runner(key)
        self.input_key = signatures[key]["inputs"][0]
        # litert-torch names outputs output_0, output_1, ...: keep the module's order.
        self.output_keys = sorted(signatures[key]["outputs"], key=lambda k: int(k.rsplit("_", 1)[1]))
        shape = self.signature.get_input_details()[self.input_key]["shape"]
        super().__init__(path, **_io_from_manifest(path, len(self.output_keys), int(shape[1]), kw))

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        inputs = self.signature.get_input_details()[self.input_key]
        result = self.signature(**{self.input_key: _quantize_like(x, inputs)})
        outputs = self.signature.get_output_details()
        return [_dequantize_like(result[k], outputs[k]) for k in self.output_keys]


def _quantize_like(x: np.ndarray, details: dict[str, Any]) -> np.ndarray:
    """Float audio as the model's input: unchanged for float32, quantized for an ``--integer-io`` model."""
    if details["dtype"] == np.float32:
        return x
    scale, zero = details["quantization"]
    return quantize_input(x, {"dtype": np.dtype(details["dtype"]).name, "scale": scale, "zero_point": zero})


def quantize_input(x: np.ndarray, quantization: dict[str, Any]) -> np.ndarray:
    """``clip(round(x / scale + zero_point))`` in the manifest's ``input_quantization`` terms (the Java core's too)."""
    dtype = np.dtype(quantization["dtype"])
    info = np.iinfo(dtype)
    scaled = x / np.float32(quantization["scale"]) + quantization["zero_point"]
    return np.clip(np.round(scaled), info.min, info.max).astype(dtype)


def _dequantize_like(y: np.ndarray, details: dict[str, Any]) -> np.ndarray:
    if details["dtype"] == np.float32:
        return y
    scale, zero = details["quantization"]
    return (y.astype(np.float32) - zero) * scale


class OnnxRunner(Runner):
    runtime = "onnxruntime"

    def __init__(self, path: Path, threads: int | None, **kw: Any) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        length = inp.shape[1] if isinstance(inp.shape[1], int) else None
        names = [o.name for o in self.session.get_outputs()]
        io = _io_from_manifest(path, len(names), length, kw, default_names=names)
        super().__init__(path, **io)

    def _run(self, x: np.ndarray) -> list[np.ndarray]:
        return self.session.run(None, {self.input_name: x})


FILE_OVERRIDES = {"output_names", "input_samples", "min_samples", "max_samples", "length_grid"}
EAGER_OPTIONS = {"outputs", "input_samples", "head"}


def load(target: Any, threads: int | None = None, **options: Any) -> Runner:
    """Load ``target`` for inference.

    Args:
        target: a ``.pte``/``.tflite``/``.onnx`` path, an :class:`Encoder`, or a model source for eager
            PyTorch (a preset name or checkpoint path, as ``fitedge.load`` reads).
        threads: CPU threads for the runtime (``None``: the runtime's default).
        options: eager: ``outputs`` (``"last"``, ``"all"``, ``"4,8"``, ``"final_proj"`` or an
            :class:`OutputSpec`), ``input_samples`` (a fixed length to enforce, default any), ``head`` (the
            final_proj module). Files: ``output_names``, ``input_samples``, ``min_samples``, ``max_samples``,
            ``length_grid`` override what the ``manifest.json`` beside the file says (for a file outside a bundle).
    """
    # An artifact file needs only its runtime: the model code (and torch) is imported for eager targets alone,
    # so that the emulated arm64 runner (arm64_child) can load files without torch.
    eager = not (isinstance(target, (str, Path)) and Path(target).suffix in RUNTIMES)
    unknown = set(options) - (EAGER_OPTIONS if eager else FILE_OVERRIDES)
    if unknown:
        raise ConfigError(f"unknown options {sorted(unknown)} for {'eager PyTorch' if eager else 'an artifact file'}")
    if eager:
        return _load_eager(target, threads, **options)
    path = Path(target)
    if not path.is_file():
        raise BundleError(f"{path}: no such artifact file")
    runner_class = {".pte": ExecuTorchRunner, ".tflite": LiteRTRunner, ".onnx": OnnxRunner}[path.suffix]
    try:
        return runner_class(path, threads, **options)
    except (BundleError, ShapeMismatch):
        raise
    except ModuleNotFoundError as e:  # the runtime itself is not installed: name the extra that brings it
        extra = TARGET_EXTRAS[path.suffix[1:]]
        raise MissingDependency(f"{path}: the {RUNTIMES[path.suffix]} runtime is not installed: "
                                f"{install_hint(extra)}") from e
    except Exception as e:  # each runtime has its own exception types for a corrupted file
        reason = f"{type(e).__name__}: {one_line(e)}"
        raise BundleError(f"{path}: {RUNTIMES[path.suffix]} cannot load it ({reason})") from e


def _load_eager(target: Any, threads: int | None, outputs: Any = "last", input_samples: int | None = None,
                head: Any = None) -> EagerRunner:
    from fitedge.distill.checkpoints.source import load_encoder
    from fitedge.distill.models.deployable import DeployableEncoder, OutputSpec
    from fitedge.distill.models.encoder import Encoder

    encoder = target if isinstance(target, Encoder) else load_encoder(target)
    encoder.for_inference()
    spec = outputs if isinstance(outputs, OutputSpec) else OutputSpec.parse(str(outputs), encoder.config.layers)
    module = DeployableEncoder(encoder, spec, head).eval()
    return EagerRunner(module, spec.names, input_samples, threads)


def _io_from_manifest(path: Path, n_outputs: int, length: int | None, overrides: dict[str, Any],
                      default_names: list[str] | None = None) -> dict[str, Any]:
    """Output names and input bounds from ``manifest.json`` beside ``path``, else from the file itself."""
    io: dict[str, Any] = {"input_samples": length, "output_names": default_names or _positional_names(n_outputs)}
    manifest_path = path.parent / mf.MANIFEST_FILE
    if manifest_path.is_file():
        manifest = mf.Manifest.read(path.parent)
        entry = manifest.artifact(path.name)
        if entry is not None:
            names = manifest.output_names()
            if len(names) != n_outputs:
                raise BundleError(f"{path}: has {n_outputs} outputs, the manifest lists {len(names)}")
            io.update(output_names=names, **manifest.input_bounds(entry))
    io.update(overrides)
    return io


def _positional_names(n: int) -> list[str]:
    return ["last_hidden_state"] if n == 1 else [f"output_{i}" for i in range(n)]


_executorch_loaded = False  # whether a method has been loaded in this process


def _set_executorch_threads(threads: int | None) -> None:
    """ExecuTorch's threadpool is process-wide; resizing it after a method has loaded crashes the process.

    The two calls are private: executorch 1.4's Python runtime has no public thread setting (its C++
    ``threadpool::get_threadpool()->_unsafe_reset_threadpool`` is what the pybindings wrap), and without them
    every artifact would run with one thread per core regardless of ``--threads``.
    """
    global _executorch_loaded
    from executorch.extension.pybindings import portable_lib

    with third_party_output():  # the threadpool's start logs cpuinfo probing through sys.stderr
        current = portable_lib._threadpool_get_thread_count()
    if threads and threads != current:
        if _executorch_loaded:
            log.warning("ExecuTorch already runs with %d threads in this process; keeping them", current)
        else:
            with third_party_output():
                portable_lib._unsafe_reset_threadpool(threads)
    _executorch_loaded = True
