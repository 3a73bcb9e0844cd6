"""Hugging Face model ids (``ORG/NAME`` or ``ORG/NAME@REVISION``) resolved to a local snapshot folder.

Users of transformers, Optimum and s3prl name models by id. ``huggingface_hub`` finds the snapshot in its
cache (``HF_HUB_CACHE``/``HF_HOME``), downloading it only where the hub is reachable and ``HF_HUB_OFFLINE`` is
not set; fitedge itself never asks for a download beyond what ``snapshot_download`` does for the id it is
given. The folder is then read like any checkpoint folder (transformers or fitedge). It lives at the package root,
not under ``distill.checkpoints``, because ``Encoder.from_pretrained`` resolves ids too and the models may not
import the checkpoints package (which imports them). A local path of the same spelling
always wins over an id.
"""

from __future__ import annotations

import re
from pathlib import Path

from fitedge.errors import CheckpointError, one_line

HUB_ID = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)(?:@(?P<revision>[\w./-]+))?$")
# What a checkpoint folder needs; tokenizers, optimizer states and other formats' copies are left out.
CHECKPOINT_FILES = ["config.json", "*.safetensors", "pytorch_model.bin", "*.pt", "*.ckpt"]


def is_hub_id(source: str | Path) -> bool:
    """``source`` names a hub model (``ORG/NAME[@REVISION]``) and no local path of that name exists."""
    return HUB_ID.match(str(source)) is not None and not Path(source).exists()


def snapshot(source: str) -> Path:
    """The local snapshot folder of the hub id ``source``; :class:`CheckpointError` when it cannot be had."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HFValidationError, LocalEntryNotFoundError

    match = HUB_ID.match(source)
    if match is None:
        raise CheckpointError(f"{source}: not a Hugging Face model id (ORG/NAME or ORG/NAME@REVISION)")
    repo, revision = match["repo"], match["revision"]
    try:
        return Path(snapshot_download(repo, revision=revision, allow_patterns=CHECKPOINT_FILES))
    except LocalEntryNotFoundError:
        raise CheckpointError(f"{source}: not in the Hugging Face cache and the hub cannot be reached "
                              f"(HF_HUB_OFFLINE=1 or no network); download it where the hub is reachable, or pass "
                              f"a local folder") from None
    except (HFValidationError, OSError, ValueError) as e:
        raise CheckpointError(f"{source}: cannot resolve the Hugging Face id ({one_line(e)})") from None
