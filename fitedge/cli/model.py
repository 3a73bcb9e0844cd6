"""``fitedge info`` (sizes and compute of models, side by side) and ``fitedge import`` (any checkpoint to fitedge's)."""

from __future__ import annotations

import json
from pathlib import Path

import click

# The FitHuBERT paper's size claim: 22.49M student / 94.68M HuBERT Base (with its pre-training heads).
PAPER_RATIO = "paper: 23.8% (22.49M / 94.68M)"


@click.command("info")
@click.argument("models", nargs=-1, required=True)
@click.option("--seconds", "-s", default=4.0, show_default=True, type=click.FloatRange(min=0.1, max=3600),
              help="Audio length the MACs/FLOPs are counted for.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON instead of tables.")
def info(models: tuple[str, ...], seconds: float, as_json: bool) -> None:
    """Parameters, MACs/FLOPs, frame rate and a per-block table of each MODEL (a preset or a checkpoint).

    With two or more models, a comparison shows every model's ratios to the largest one.

    \b
    Examples:
      fitedge info fithubert hubert-base          # the paper's student next to its teacher
      fitedge info tiny --seconds 1 --json
      fitedge info ./hubert_base_ls960.pt         # any checkpoint fitedge import reads
    """
    from fitedge.distill.checkpoints.source import profile_source
    from fitedge.distill.models.config import PRESETS
    from fitedge.distill.models.profile import compare, is_structurally

    profiles = [profile_source(m, seconds) for m in models]
    comparison = compare(profiles) if len(profiles) > 1 else None
    if as_json:
        click.echo(json.dumps({"seconds": seconds, "models": [p.to_dict() for p in profiles],
                               "comparison": comparison}, indent=2))
        return
    for p in profiles:
        click.echo(_model_text(p))
    if comparison:
        reference = next(p for p in profiles if p.name == comparison["reference"])
        paper = is_structurally(reference.config, PRESETS["hubert-base"])
        click.echo(_comparison_text(profiles, comparison, seconds, paper))


def _model_text(p) -> str:
    from fitedge.distill.models.profile import COUNTED

    lines = [f"{p.name}  [{p.source}]",
             f"  parameters   {p.params:,} backbone (weight norm counted as g + v, as the paper does; "
             f"{p.folded_params:,} folded)"]
    if p.heads_params:
        lines.append(f"               {p.params + p.heads_params:,} with the checkpoint's heads ({p.heads_params:,})")
    if p.reported_params is not None:
        parts = p.reported_parts
        lines += [f"  as reported  {p.reported_params:,} = backbone + final hint head {parts['final hint head']:,}"
                  f" + unused upsampler {parts['unused upsampler']:,}",
                  "               (the paper's 22.49M: it counts the last hint head, which maps to the teacher's",
                  "               768-d 20 ms frames, and an upsampler the model builds but never uses)"]
    lines += [f"  output       {p.frames} frames x {p.dim} for {p.seconds:g} s: {p.frame_rate_hz:g} frames/s "
              f"({p.frame_hop_ms:g} ms hop), {p.layers} layers",
              f"  compute      {p.macs / 1e9:.3f} GMACs = {p.flops / 1e9:.3f} GFLOPs for {p.seconds:g} s "
              f"({p.samples:,} samples)", ""]
    rows = [(b.name, f"{b.params:,}", f"{b.macs / 1e9:.3f}", f"{100 * b.macs / p.macs:.1f}") for b in p.blocks]
    rows.append(("total", f"{p.params:,}", f"{p.macs / 1e9:.3f}", "100.0"))
    lines += _table(("block", "params", "GMACs", "MACs %"), rows, indent=2)
    lines.append(f"  counted: {COUNTED}")
    return "\n".join(lines) + "\n"


def _comparison_text(profiles, comparison: dict, seconds: float, paper: bool) -> str:
    ratios = {r["name"]: r for r in comparison["models"]}
    percent = "{:.1%}".format

    rows = [
        ("parameters (backbone)", *[f"{p.params:,}" for p in profiles]),
        ("  ratio", *[percent(ratios[p.name]["params_ratio"]) for p in profiles]),
    ]
    if any(p.reported_params is not None for p in profiles):
        rows += [("parameters (as reported)", *[f"{p.reported_params:,}" if p.reported_params else "-"
                                                   for p in profiles]),
                 (f"  ratio to {comparison['reference']}", *[percent(ratios[p.name]["reported_params_ratio"])
                                             if p.reported_params else "-" for p in profiles])]
    rows += [
        (f"GMACs ({seconds:g} s)", *[f"{p.macs / 1e9:.3f}" for p in profiles]),
        ("  ratio", *[percent(ratios[p.name]["macs_ratio"]) for p in profiles]),
        ("frames/s", *[f"{p.frame_rate_hz:g}" for p in profiles]),
        ("output dim", *[str(p.dim) for p in profiles]),
    ]
    lines = [f"comparison (ratios to {comparison['reference']}, the largest)"]
    lines += _table(("", *[p.name for p in profiles]), rows, indent=2)
    if paper and any(p.reported_params is not None for p in profiles):
        lines.append(f"  size as reported vs {comparison['reference']}'s backbone; {PAPER_RATIO}")
    return "\n".join(lines)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]], indent: int) -> list[str]:
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    pad = " " * indent

    def fmt(r):
        return pad + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))

    return [fmt(header), pad + "  ".join("-" * w for w in widths), *[fmt(r) for r in rows]]


@click.command("import")
@click.argument("source", type=click.Path(path_type=Path))
@click.option("--out", "-o", required=True, type=click.Path(path_type=Path), help="fitedge checkpoint folder to write.")
@click.option("--format", "fmt", type=click.Choice(["fitedge", "transformers", "fairseq", "torchaudio", "fithubert"]),
              help="Read SOURCE as this format instead of detecting it from its content.")
@click.option("--heads", type=click.IntRange(min=1),
              help="Attention heads of SOURCE, for files that do not say (torchaudio state dicts, bare weights): "
                   "tensor shapes cannot tell them.")
@click.option("--encoder", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="SOURCE's whole encoder config, a fitedge encoder JSON (EncoderConfig fields, or a fitedge "
                   "folder's config.json): taken as it is, once the weights' shapes are checked against it.")
@click.option("--guess", is_flag=True,
              help="Accept the head count guessed from the widths (head size 64) where the file does not say and "
                   "it is not a released model's; a wrong guess changes the outputs.")
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
def import_(source: Path, out: Path, fmt: str | None, heads: int | None, config_file: Path | None, guess: bool,
            force: bool) -> None:
    """Convert a HuBERT/wav2vec2/FitHuBERT checkpoint SOURCE into a fitedge checkpoint folder OUT.

    SOURCE: a transformers folder (HubertModel, Wav2Vec2Model, ...ForCTC) or Hugging Face id (ORG/NAME[@REVISION],
    from the hub cache; HF_HUB_OFFLINE=1 is honoured), a fairseq .pt, a torchaudio state dict, the official
    FitHuBERT .ckpt, or a fitedge folder. The format is detected from the content.
    OUT gets config.json + model.safetensors (+ heads.safetensors); it is written only if every tensor fits.

    A torchaudio state dict carries no config, and its shapes do not show the number of attention heads: unless
    its widths are a released model's (768/3072: 12 heads; 1024/4096, 1280/5120, 1920/7680: 16), give them with
    --heads or --encoder, or accept the guess with --guess.

    \b
    Examples:
      fitedge import ./hubert-base-ls960/ --out teacher/
      fitedge import facebook/hubert-base-ls960 --out teacher/
      fitedge import hubert_base_ls960.pt --out teacher/ --force
      fitedge import fithubert-960h.ckpt --out student/ --format fithubert
      fitedge import small_wav2vec2.pth --out student/ --heads 4      # torchaudio state dict
    """
    from fitedge.distill.checkpoints.detect import import_to_folder
    from fitedge.distill.checkpoints.infer_config import ConfigFacts, read_config_file
    from fitedge.distill.checkpoints.source import load_encoder

    facts = ConfigFacts(heads, read_config_file(config_file) if config_file else None, guess)
    written = import_to_folder(source, out, fmt, force, facts)
    encoder = load_encoder(written)
    meta = encoder.meta
    guessed = meta.get("config_guessed") or []
    c = encoder.config
    click.echo(f"imported {source} ({meta.get('imported_from', 'fitedge')}) -> {written}")
    click.echo(f"  {c.layers} layers x {c.dim}, {c.heads} heads, FFN {c.ffn_dim}, "
               f"{'pre' if c.layer_norm_first else 'post'}-LN, time reduction {c.time_reduction or 'none'}, "
               f"{encoder.num_parameters():,} parameters")
    if guessed:
        click.echo(f"  guessed from tensor shapes (the file does not say): {', '.join(guessed)}")


@click.command("env")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable.")
def env(as_json: bool) -> None:
    """This machine as fitedge sees it: CPU model, class and int8-relevant ISA features, cores, OS, and the
    version of every runtime (paste it into a bug report; int8 results depend on the CPU class)."""
    from fitedge.bench.host.environment import describe_host

    host = describe_host()
    if as_json:
        click.echo(json.dumps(host, indent=2))
        return
    cpu = host["cpu"]
    click.echo(f"CPU:      {cpu['model']} ({host['machine']}), {host['cores']} usable cores")
    click.echo(f"class:    {cpu['class']} ({', '.join(cpu['isa']) or 'no int8 extension'})")
    click.echo(f"system:   {host['os']}, Python {host['python']}")
    for name, version in host["versions"].items():
        click.echo(f"{name + ':':<16}{version or 'not installed'}")
