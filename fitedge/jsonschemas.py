"""JSON Schema files shipped as package data: the contracts fitedge's documents are validated against.

jsonschema is imported on first use only, so a module that names a schema file imports in an environment
without it (the emulated arm64 child reads manifests without validating them).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class SchemaFile:
    """The JSON Schema file ``name`` of the package ``package`` (in the source tree: beside its modules).

    ``adapt``, when given, rewrites the file's schema before use (the manifest's runtime names come from the
    registered backends); call :meth:`forget` when what it depends on changes.
    """

    package: str
    name: str
    adapt: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    def path(self) -> Path:
        """Where the file is installed."""
        return Path(str(resources.files(self.package) / self.name))

    def problem(self, doc: Any) -> str | None:
        """The most relevant violation as ``$.json.path: what``, or ``None`` when ``doc`` is valid."""
        from jsonschema.exceptions import best_match

        error = best_match(_validator(self).iter_errors(doc))
        return None if error is None else f"{error.json_path}: {error.message}"

    def forget(self) -> None:
        """Drop the cached validators, so the next check reads and adapts the schema again."""
        _validator.cache_clear()


@functools.cache
def _validator(schema_file: SchemaFile) -> Any:
    import jsonschema

    schema = json.loads(schema_file.path().read_text())
    if schema_file.adapt is not None:
        schema = schema_file.adapt(schema)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)
