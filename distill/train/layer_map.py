"""Which student layer learns from which teacher layer.

A layer map is a tuple of ``(student_layer, teacher_layer)`` pairs, 1-based like ``hidden_states``
(0 would be the input to the first transformer layer). Its last pair is the "last layer" whose loss
FitHuBERT weights 1 (the others 0.1) and on which early stopping watches the validation loss.
"""

from __future__ import annotations

from fitedge.errors import ConfigError

LayerMap = tuple[tuple[int, int], ...]


def hint_layer_map(student_layers: int, teacher_layers: int) -> LayerMap:
    """FitHuBERT's map: every student layer ``k`` to teacher layer ``k`` when depths match, proportional otherwise."""
    return tuple((k, max(1, round(k * teacher_layers / student_layers))) for k in range(1, student_layers + 1))


def distilhubert_layer_map(student_layers: int, teacher_layers: int) -> LayerMap:
    """DistilHuBERT's map: the student's last layer predicts teacher layers at 1/3, 2/3 and 3/3 depth (4, 8, 12)."""
    targets = sorted({max(1, round(teacher_layers * i / 3)) for i in (1, 2, 3)})
    return tuple((student_layers, t) for t in targets)


def parse_layer_map(text: str) -> LayerMap:
    """``"1:2,2:4"`` to ``((1, 2), (2, 4))``."""
    try:
        pairs = tuple(tuple(int(v) for v in part.split(":")) for part in text.split(",") if part.strip())
    except ValueError:
        raise ConfigError(f"layer map {text!r}: expected 'student:teacher' pairs such as '1:2,2:4'") from None
    if not pairs or any(len(p) != 2 for p in pairs):
        raise ConfigError(f"layer map {text!r}: expected 'student:teacher' pairs such as '1:2,2:4'")
    return pairs  # type: ignore[return-value]


def check_layer_map(layer_map: LayerMap, student_layers: int, teacher_layers: int) -> None:
    """Raise :class:`ConfigError` when a pair names a layer the student or the teacher does not have."""
    for s, t in layer_map:
        if not (1 <= s <= student_layers and 1 <= t <= teacher_layers):
            raise ConfigError(f"layer map pair {s}:{t} is out of range: the student has layers 1..{student_layers}, "
                              f"the teacher 1..{teacher_layers}")
