"""A feed's update time: RFC 2822 (Apple RSS v2) or ISO 8601 with an offset (legacy iTunes) -> UTC."""

from __future__ import annotations

import datetime as dt
import email.utils


def parse_updated(text: str | None) -> dt.datetime | None:
    """Feed update time in UTC: RFC 2822 (RSS v2) or ISO 8601 with offset (legacy); None if neither."""
    if not text:
        return None
    try:
        stamp = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        try:
            stamp = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if stamp is None or stamp.tzinfo is None:
        return None
    return stamp.astimezone(dt.UTC)
