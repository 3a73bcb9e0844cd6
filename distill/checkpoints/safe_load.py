"""Read untrusted PyTorch pickles (``.pt``/``.ckpt``/``.bin``) without executing anything they name.

``torch.load(weights_only=True)`` refuses every class outside a small allowlist. Real fairseq and
Lightning checkpoints also carry their training state: an ``argparse.Namespace`` config (``args``) and
numpy scalars (``extra_state``). Those few classes are plain data containers, so they, and nothing else,
are added to the allowlist for the duration of one load. Anything else (a ``__reduce__`` that calls
``os.system``, an OmegaConf object, a custom class) is refused with a one-line :class:`CheckpointError`.
"""

from __future__ import annotations

import argparse
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fitedge.errors import CheckpointError

# Private on purpose: this is the exact function a pickled numpy scalar names (``numpy._core.multiarray.scalar``,
# or ``numpy.core...`` from numpy 1.x), and ``weights_only`` loading must allow that very object; numpy has no
# public alias for it. Both names map to it, so checkpoints pickled with either numpy load.
_SCALAR = np._core.multiarray.scalar
_DTYPE_CLASSES = [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith("DType") and n != "StringDType"]
BENIGN_GLOBALS: list[Any] = [
    argparse.Namespace,
    _SCALAR,
    (_SCALAR, "numpy.core.multiarray.scalar"),
    np.dtype,
    *_DTYPE_CLASSES,
]

_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTO = 0x80  # first byte of a binary pickle (torch's legacy, non-zip format)


def is_torch_pickle(path: Path) -> bool:
    """Whether ``path`` starts like a file ``torch.save`` writes (a zip archive or a binary pickle)."""
    with open(path, "rb") as f:
        head = f.read(4)
    return head == _ZIP_MAGIC or (len(head) > 1 and head[0] == _PICKLE_PROTO)


def safe_torch_load(path: str | Path) -> Any:
    """``torch.load`` restricted to tensors, plain containers and :data:`BENIGN_GLOBALS`, on the CPU.

    Raises :class:`CheckpointError` (one line) for a missing, non-PyTorch, truncated or unsafe file.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such file")
    if not is_torch_pickle(path):
        raise CheckpointError(f"{path}: not a PyTorch checkpoint (neither a zip archive nor a pickle)")
    try:
        with torch.serialization.safe_globals(BENIGN_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True, mmap=False)
    except pickle.UnpicklingError as e:
        raise CheckpointError(f"{path}: refused to unpickle: {_unsafe_reason(str(e))}") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, KeyError, AttributeError) as e:
        reason = _first_sentence(str(e))
        raise CheckpointError(f"{path}: corrupted or truncated PyTorch checkpoint ({reason})") from None


def _unsafe_reason(message: str) -> str:
    """The one useful line of torch's long weights-only error: which global the file asked for."""
    for line in message.splitlines():
        if "nsupported" in line:
            return line.strip().rstrip(".") + " (only tensors and plain data are loaded)"
    return _first_sentence(message)


def _first_sentence(message: str) -> str:
    return message.strip().split("\n")[0].split(". ")[0].rstrip(".")
