"""Schedule families. ``FAMILIES`` maps ``kind`` to its spec class; adding a family is a class in one of these
modules plus its line here. Import is light: numpy is only imported when a schedule is built."""

from __future__ import annotations

from lrplan.schedules import classic, continual, infinite, phases, power, refined, wsd
from lrplan.schedules.base import BuildContext, Family
from lrplan.schedules.shapes import DECAY_SHAPES, WARMUP_SHAPES

_ALL = [*classic.FAMILIES, *wsd.FAMILIES, *power.FAMILIES, *infinite.FAMILIES, *continual.FAMILIES, *refined.FAMILIES, *phases.FAMILIES]

FAMILIES: dict[str, type[Family]] = {cls.model_fields["kind"].annotation.__args__[0]: cls for cls in _ALL}  # type: ignore[union-attr]

__all__ = ["FAMILIES", "DECAY_SHAPES", "WARMUP_SHAPES", "BuildContext", "Family"]
