"""Typed errors of fitedge.

Every error a user can cause derives from :class:`FitedgeError`; the CLI turns
these into a one-line message and a non-zero exit, never a traceback.
"""

from __future__ import annotations


class FitedgeError(Exception):
    """Base class: a problem the user can act on, described in one line."""


class ConfigError(FitedgeError, ValueError):
    """A configuration value is out of range or inconsistent."""


class UnknownPreset(ConfigError):
    """A preset name that fitedge does not know."""


class CheckpointError(FitedgeError):
    """A checkpoint cannot be read: missing, corrupted, or of another kind."""


class CheckpointKeyMismatch(CheckpointError):
    """A checkpoint's tensors do not fit the architecture (missing, unexpected or mis-shaped keys)."""


class ShapeMismatch(FitedgeError, ValueError):
    """A tensor has a shape other than the one expected."""


class ToleranceExceeded(FitedgeError):
    """An exported artifact does not compute what the reference computes."""


class ExportError(FitedgeError):
    """A runtime failed to lower or run a graph."""


class DataError(FitedgeError):
    """Audio or label data is missing, empty or unreadable."""


class BundleError(FitedgeError):
    """A bundle folder is missing, incomplete, of another schema, or its files do not match the manifest."""


class DeviceError(FitedgeError):
    """An Android device cannot be used: no adb, no device, unauthorised, app missing, no results."""


class EmulatorError(FitedgeError):
    """The emulated machine cannot be set up or run: qemu, apt-get, pip or the emulated Python missing or failing."""


class MissingDependency(FitedgeError):
    """An optional part's packages are not installed; the message names the pip extra that brings them."""


class PerGateRefused(FitedgeError):
    """An exported artifact loses more phoneme accuracy (PER) against the float model than allowed."""


def one_line(error: BaseException) -> str:
    """The first line of an exception's message (at most 200 characters), for one-line errors."""
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else ""
