"""Cutting an ordered run of items (days, mostly) into consecutive batches of bounded size."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


def consecutive_batches(sized: Iterable[tuple[T, int]], limit: int) -> list[list[T]]:
    """The items, in their order, in groups whose sizes add up to at most `limit`; an item larger than
    that is a group of its own. [(day, rows), ...] -> [[day, day], [day], ...]."""
    batches: list[list[T]] = []
    held = 0
    for item, size in sized:
        if not batches or held + size > limit:
            batches.append([])
            held = 0
        batches[-1].append(item)
        held += size
    return batches
