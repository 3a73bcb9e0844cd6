"""Loss curves of a pre-training and a distillation run as one PNG (matplotlib, headless).

``fitedge curves RUN_DIR --pretrain PRETRAIN_DIR --out docs/distill_loss.png`` draws them.
"""

from __future__ import annotations

import json
from pathlib import Path

from fitedge.distill.train.run_log import read_log


def plot_curves(distill_dir: str | Path, out: str | Path, pretrain_dir: str | Path | None = None) -> Path:
    """Left: masked-prediction loss and accuracy of pre-training; right: distillation losses per layer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    records = read_log(Path(distill_dir) / "log.jsonl")
    train = [r for r in records if r["kind"] == "train"]
    valid = [r for r in records if r["kind"] == "valid"]
    panels = 2 if pretrain_dir else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 3.8), dpi=90, squeeze=False)
    if pretrain_dir:
        _plot_pretrain(axes[0][0], json.loads((Path(pretrain_dir) / "pretrain_log.json").read_text()))
    ax = axes[0][-1]
    steps = [r["step"] for r in train]
    ax.plot(steps, [r["loss"] for r in train], color="black", lw=1.6, label="total (train)")
    for i, layer in enumerate(zip(*[r["layers"] for r in train])):
        ax.plot(steps, layer, lw=0.8, alpha=0.8, label=f"head {i + 1} (train)")
    if valid:
        ax.plot([r["step"] for r in valid], [r["last_layer_loss"] for r in valid], "o--", color="red",
                label="last layer (validation)")
    ax.set(title="Distillation: FitHuBERT hint loss", xlabel="optimiser step", ylabel="MSE to teacher layer")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def _plot_pretrain(ax, log: dict) -> None:
    history = log["history"]
    steps = [r["step"] for r in history]
    ax.plot(steps, [r["loss"] for r in history], color="black", lw=1.2, label="loss (train)")
    weight = log["pretrain"].get("unmasked_weight", 0.0)
    loss = "CE(masked)" + (f" + {weight:g} CE(unmasked)" if weight else "")
    ax.set(title=f"Teacher pre-training: {loss}", xlabel="optimiser step", ylabel="cross-entropy (nats)")
    ax.grid(alpha=0.3)
    acc = ax.twinx()
    acc.plot(steps, [r["masked_acc"] for r in history], color="tab:blue", lw=0.9, label="masked-frame accuracy")
    acc.plot(steps, [r["unmasked_acc"] for r in history], color="tab:green", lw=0.9, label="unmasked-frame accuracy")
    acc.set_ylabel("unit accuracy (fraction)")
    lines = ax.get_lines() + acc.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], fontsize=7, loc="center right")
