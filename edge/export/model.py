"""The model side of an export: load a source, wrap it for deployment, and describe it for the manifest."""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from fitedge.distill.models.config import EncoderConfig
from fitedge.distill.models.ctc_head import BLANK, CtcHead
from fitedge.distill.models.deployable import FINAL_PROJ, LOGITS, DeployableEncoder, OutputSpec
from fitedge.distill.models.encoder import Encoder
from fitedge.edge.bundle.manifest import sha256_bytes, sha256_file
from fitedge.edge.export.options import ExportOptions
from fitedge.files import write_text

TOKENS_FILE = "tokens.txt"
HEAD_FILE = "head.safetensors"  # the --head file, copied: eager PyTorch gives the bundle's reference logits from it


@dataclass
class ExportModel:
    """An inference-ready encoder, the chosen outputs, an optional head (final_proj or CTC), and what the manifest
    says. ``head_file``: the CTC head's file (``--head``)."""

    name: str
    source: str
    trained: bool
    encoder: Encoder
    spec: OutputSpec
    head: nn.Module | None
    seed: int | None = None  # of a preset's random weights
    int8_aware: dict[str, Any] | None = None  # the checkpoint's record of int8-aware training, if any
    head_file: str | None = None

    @property
    def config(self) -> EncoderConfig:
        return self.encoder.config

    @property
    def parameters(self) -> int:
        return sum(p.numel() for p in self.deployable().parameters())

    @property
    def time_reduction_factor(self) -> int:
        return self.config.reduction

    @property
    def normalization(self) -> str:
        # The encoder normalises inside the graph when its config says so: callers pass raw audio either way.
        return "per-utterance zero-mean unit-variance, inside the model" if self.config.normalize_waveform else "none"

    @property
    def length_grid(self) -> tuple[int, int]:
        """``(multiple, offset)``: input lengths ``offset + multiple * k`` give exactly ``k`` extractor frames."""
        return self.config.conv_stride, self.config.receptive_field - self.config.conv_stride

    def deployable(self) -> DeployableEncoder:
        return DeployableEncoder(self.encoder, self.spec, self.head).eval()

    def weights_sha256(self) -> str:
        """sha256 over every tensor (name, then little-endian bytes) in sorted name order."""
        h = hashlib.sha256()
        for name, tensor in sorted(self.deployable().state_dict().items()):
            h.update(name.encode())
            h.update(np.ascontiguousarray(tensor.detach().cpu().float().numpy(), dtype="<f4").tobytes())
        return h.hexdigest()

    def manifest_section(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "trained": self.trained, "seed": self.seed,
                "config": self.config.to_dict(), "weights_sha256": self.weights_sha256(), "parameters": self.parameters,
                "int8_aware": self.int8_aware_summary()}

    def int8_aware_summary(self) -> dict[str, Any] | None:
        """The checkpoint's int8-aware record without its per-module activation ranges (they stay in config.json)."""
        if self.int8_aware is None:
            return None
        return {k: v for k, v in self.int8_aware.items() if k != "activation_ranges"}

    @property
    def decisions_output(self) -> str | None:
        """The output whose argmax is a decision (a CTC head's logits), else ``None``."""
        return LOGITS if isinstance(self.head, CtcHead) else None

    def write_head(self, folder: Path) -> dict[str, Any]:
        """With a CTC head: write ``tokens.txt`` (one token per line, the blank first) and a copy of the head file
        into the bundle ``folder`` and return the manifest's ``head`` section as ``{"head": ...}``; without one,
        ``{}``."""
        if not isinstance(self.head, CtcHead):
            return {}
        text = "".join(f"{t}\n" for t in self.head.tokens)
        write_text(folder / TOKENS_FILE, text)
        shutil.copyfile(str(self.head_file), folder / HEAD_FILE)
        return {"head": {"kind": "ctc", "output": LOGITS, "tokens": TOKENS_FILE, "file": HEAD_FILE,
                         "tokens_sha256": sha256_bytes(text.encode()), "blank": BLANK,
                         "vocab_size": len(self.head.tokens), "layer": self.head.layer,
                         "probe_source": Path(str(self.head_file)).name, "probe_sha256": sha256_file(self.head_file)}}

    def output_descriptions(self) -> list[dict[str, Any]]:
        """Name, layer and frame hop of each output, in order (the manifest adds shapes; files carry these)."""
        hop = self.config.frame_hop_ms
        entries = []
        for name in self.spec.names:
            layer = self.spec.layer_of(name, self.config.layers)
            # final_proj upsamples the time-reduced frames back to the teacher's 20 ms hop
            frame_hop = self.config.frame_hop_ms / self.time_reduction_factor if name == FINAL_PROJ else hop
            entries.append({"name": name, "layer": layer, "frame_hop_ms": frame_hop})
        return entries

    def outputs_section(self, golden: dict[str, np.ndarray]) -> list[dict[str, Any]]:
        return [{"name": o["name"], "shape": list(golden[o["name"]].shape), "layer": o["layer"],
                 "frame_hop_ms": o["frame_hop_ms"]} for o in self.output_descriptions()]


def load_export_model(source: str | Path, options: ExportOptions) -> ExportModel:
    """Resolve ``source`` (preset, fitedge folder, importable checkpoint) and the chosen outputs."""
    from fitedge.distill.checkpoints.source import build_preset, read_source
    from fitedge.distill.models.ctc_head import load_ctc_head
    from fitedge.distill.models.heads import build_final_proj

    checkpoint = read_source(source)
    if checkpoint is None:
        encoder = build_preset(str(source), options.seed)
        name, origin, trained, heads = str(source), f"preset:{source}", False, {}
    else:
        encoder = checkpoint.build()
        path = Path(source)
        name, origin, trained, heads = path.stem or path.name, str(source), True, checkpoint.heads
        trained = bool(checkpoint.meta.get("trained", True))
    encoder.for_inference()
    spec = OutputSpec.parse(options.outputs, encoder.config.layers)
    head = build_final_proj(heads, encoder.config, str(source)) if spec.kind == FINAL_PROJ else None
    if options.head is not None:
        head = load_ctc_head(options.head)
        head.check_fits(encoder.config, options.head)
        spec = dataclasses.replace(spec, logits=True)
    seed = options.seed if checkpoint is None else None
    int8_aware = None if checkpoint is None else checkpoint.meta.get("int8_aware")
    return ExportModel(name, origin, trained, encoder, spec, head, seed, int8_aware, options.head)
