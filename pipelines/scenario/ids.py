"""Deterministic ids (Statuspage style, incident.io ULIDs) derived from the seed and some labels."""

from __future__ import annotations

import datetime as dt
import hashlib

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
_ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def stable_id(seed: int, *parts: object, length: int = 12, alphabet: str = _ID_ALPHABET) -> str:
    """A deterministic id (Statuspage style by default) from the seed and some labels."""
    digest = hashlib.blake2b(("\x1f".join([str(seed), *map(str, parts)])).encode(), digest_size=32).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(length):
        number, rem = divmod(number, len(alphabet))
        chars.append(alphabet[rem])
    return "".join(chars)


def ulid(seed: int, at: dt.datetime, *parts: object) -> str:
    """An incident.io-style ULID: 10 characters of millisecond time, 16 of deterministic randomness."""
    ms = int(at.timestamp() * 1000)
    head = []
    for _ in range(10):
        ms, rem = divmod(ms, 32)
        head.append(_ULID_ALPHABET[rem])
    return "".join(reversed(head)) + stable_id(seed, "ulid", *parts, length=16, alphabet=_ULID_ALPHABET)
