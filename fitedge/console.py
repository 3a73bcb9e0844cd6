"""What the command line prints: fitedge's own lines always, third-party noise only when asked (``-v``).

The runtimes fitedge drives are chatty: torch's ``_pytree`` FutureWarnings, torchao's optional-kernel notes,
absl and TensorFlow lines from the LiteRT converter, ExecuTorch's cpuinfo lines, LiteRT's "Created XNNPACK
delegate". Much of it is written by C++ straight to file descriptor 2, where no Python setting reaches. So,
unless ``-v`` is given, :func:`configure` points descriptor 2 at a log file and gives Python's ``sys.stderr``
a private copy of the real one: fitedge's progress, tables, errors and tracebacks stay on the terminal, the
native chatter goes to the file, whose path is printed if the command fails.

Verbosity: ``-q`` errors only; default fitedge's progress and warnings; ``-v`` also third-party warnings and
native logs; ``-vv`` debug.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator

import click

QUIET, NORMAL, VERBOSE, DEBUG = -1, 0, 1, 2
_state = {"verbosity": NORMAL, "native_log": None}


class _OwnOrSevere(logging.Filter):
    """Below ``-v``, third-party records pass only from ERROR up; fitedge's own at the configured level."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.name.startswith("fitedge") or record.levelno >= logging.ERROR


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of the record (click's test runner swaps it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # noqa: ANN201 - the attribute StreamHandler reads
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it; the property decides
        pass


def configure(verbosity: int) -> None:
    """Set logging, warnings and native output for ``verbosity`` (-1 quiet, 0 normal, 1 verbose, 2 debug)."""
    _state["verbosity"] = verbosity
    if verbosity < VERBOSE:
        os.environ.setdefault("TORCH_LOGS", "-all")  # torch installs its own handlers; this sets them to ERROR
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        warnings.simplefilter("ignore")
        _divert_native_stderr()
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    if verbosity < VERBOSE:
        handler.addFilter(_OwnOrSevere())
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StderrHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING if verbosity < VERBOSE else logging.INFO)
    fitedge_level = {QUIET: logging.ERROR, NORMAL: logging.WARNING, VERBOSE: logging.INFO}
    logging.getLogger("fitedge").setLevel(fitedge_level.get(verbosity, logging.DEBUG))


def say(line: str) -> None:
    """A progress line on stderr, unless ``-q``."""
    if _state["verbosity"] > QUIET:
        click.echo(line, err=True)


@contextlib.contextmanager
def third_party_output() -> Iterator[None]:
    """Python-level stderr of a chatty library call goes to the native log too, below ``-v``.

    ExecuTorch's bindings route their C++ log lines (cpuinfo probing on every threadpool start) through
    Python's ``sys.stderr``, which diverting descriptor 2 does not catch.
    """
    path = _state["native_log"]
    if path is None or _state["verbosity"] >= VERBOSE:
        yield
        return
    with open(path, "a") as log_file, contextlib.redirect_stderr(log_file):
        yield


def native_log() -> str | None:
    """The file that native output went to in this process, if it was diverted."""
    return _state["native_log"]


def _divert_native_stderr() -> None:
    """Descriptor 2 to a log file, ``sys.stderr`` to a copy of the terminal; only for the real process stderr.

    Under click's test runner or a redirected ``sys.stderr`` nothing is touched: the caller owns that stream.
    """
    if _state["native_log"] is not None:
        return
    try:
        if sys.stderr is None or sys.stderr.fileno() != 2:
            return
    except (AttributeError, OSError, ValueError):
        return
    sys.stderr.flush()
    terminal = os.dup(2)
    fd, path = tempfile.mkstemp(prefix="fitedge-native-", suffix=".log")
    os.dup2(fd, 2)
    os.close(fd)
    sys.stderr = os.fdopen(terminal, "w", buffering=1, encoding=sys.stderr.encoding, errors="backslashreplace")
    _state["native_log"] = path


def finish(failed: bool) -> None:
    """Remove the native log of a successful run; point to it after a failure (when it has anything)."""
    path = _state["native_log"]
    if path is None:
        return
    try:
        if failed and os.path.getsize(path) > 0:
            click.echo(f"(native runtime output of this run: {path}; -v shows it live)", err=True)
        else:
            os.unlink(path)
    except OSError:
        pass
