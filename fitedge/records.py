"""Typed JSON records that keep what they do not type: the base of the manifest's and the results' dataclasses.

A record's dataclass fields are the keys its JSON Schema requires; every optional or newer key stays in its
``extra`` dict, untouched, so reading and writing a document changes nothing, not even the key order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, Self


def _ordered(doc: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    """``doc`` with the keys of ``order`` first in that order, any other after them in their own order."""
    rank = {k: i for i, k in enumerate(order)}
    return dict(sorted(doc.items(), key=lambda kv: rank.get(kv[0], len(order))))


@dataclass
class Section:
    """A JSON object: typed fields for the required keys, ``extra`` for the rest, in the writer's order.

    ``NESTED`` names the fields that hold sections: a section class, or ``[cls]`` / ``{cls}`` for a list or a
    name -> section mapping. ``ORDER`` is the key order the writer uses (unknown keys follow).
    """

    NESTED: ClassVar[dict[str, Any]] = {}
    ORDER: ClassVar[tuple[str, ...]] = ()
    extra: dict[str, Any] = field(default_factory=dict, kw_only=True)

    @classmethod
    def keys(cls) -> list[str]:
        """The JSON keys held as typed fields (the schema's required keys of this section)."""
        return [f.name for f in fields(cls) if f.name != "extra"]

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Self:
        """The section of a (schema-valid) JSON object."""
        keys = cls.keys()
        typed = {k: _load(cls.NESTED.get(k), doc[k]) for k in keys}
        return cls(**typed, extra={k: v for k, v in doc.items() if k not in keys})

    def to_dict(self) -> dict[str, Any]:
        """The JSON object: typed fields and ``extra`` merged, keys in the exporter's order."""
        typed = {k: _dump(getattr(self, k)) for k in self.keys()}
        return _ordered({**typed, **self.extra}, self.ORDER or tuple(typed))


def _load(kind: Any, value: Any) -> Any:
    if kind is None or value is None:
        return value
    if isinstance(kind, list):
        return [kind[0].from_dict(v) for v in value]
    if isinstance(kind, set):
        (cls,) = kind
        return {name: cls.from_dict(v) for name, v in value.items()}
    return kind.from_dict(value)


def _dump(value: Any) -> Any:
    if isinstance(value, Section):
        return value.to_dict()
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value
