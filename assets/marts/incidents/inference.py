"""Components and impact read from an incident's own words, for sources that publish neither.

Atom/RSS history feeds (and incident.io pages) often list no affected components and no impact; they
name the product in the text instead ("Degraded performance for Claude Code"). Such an incident gets:
- components: every configured component name (providers.yaml `components:` keys of its provider)
  that appears in its title or update bodies as whole words, case-insensitively; the longest name is
  matched first, so "Claude API" does not also count as "API";
- impact: the worst level named by the status words of `data/status_words.json` in the same text, or
  maintenance for a maintenance notice.
The mart marks both as inferred (`components_inferred`, `impact_inferred`); a listed component or a
published impact always wins over the text, so the words are only read where they are needed. Each
phrase list is one precompiled alternation (cached), not a pattern built and searched per phrase.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import NamedTuple

import polars as pl

STATUS_WORDS_FILE = Path(__file__).with_name("data") / "status_words.json"
KEYS = ["provider", "incident_id"]
IMPACT_ORDER = ("critical", "major", "minor")  # worst first


def _words_body(phrase: str) -> str:
    """`phrase` as a pattern body: its words escaped, any run of whitespace between them."""
    return r"\s+".join(re.escape(word) for word in phrase.split())


@lru_cache(maxsize=1024)
def _any_of(phrases: tuple[str, ...]) -> re.Pattern[str]:
    """Any of `phrases` as whole words, any case, any run of whitespace between their words.

    The alternatives share the look-arounds, so this matches a text iff one phrase on its own would.
    """
    if not phrases:
        return re.compile(r"(?!)")  # no phrase: never matches
    bodies = "|".join(_words_body(phrase) for phrase in phrases)
    return re.compile(rf"(?<!\w)(?:{bodies})(?!\w)", re.IGNORECASE)


class _StatusWords(NamedTuple):
    impacts: dict[str, re.Pattern[str]]  # level -> any of its phrases
    maintenance_title: re.Pattern[str]
    maintenance_statuses: frozenset[str]


@cache
def _status_words() -> _StatusWords:
    words = json.loads(STATUS_WORDS_FILE.read_text(encoding="utf-8"))
    return _StatusWords(
        impacts={level: _any_of(tuple(words["impact_phrases"][level])) for level in IMPACT_ORDER},
        maintenance_title=_any_of(tuple(words["maintenance_title_phrases"])),
        maintenance_statuses=frozenset(words["maintenance_update_statuses"]),
    )


_NamePatterns = tuple[tuple[str, re.Pattern[str]], ...]


@lru_cache(maxsize=256)
def _component_patterns(names: frozenset[str]) -> tuple[re.Pattern[str], _NamePatterns]:
    """A pattern for any of the names, then each name with its own pattern, longest name first."""
    ordered = tuple(sorted((n for n in names if n and n.strip()), key=lambda n: (-len(n), n)))
    return _any_of(ordered), tuple((name, _any_of((name,))) for name in ordered)


def components_named(text: str | None, names: Iterable[str]) -> list[str]:
    """The configured component names that `text` names as whole words (any case), sorted.

    Longest names first, and a matched name is blanked out, so a short name inside a longer one
    ("API" in "Claude API") is only counted when it also stands on its own.
    """
    if not text:
        return []
    any_name, each_name = _component_patterns(frozenset(names))
    if not any_name.search(text):  # one scan for a text naming none: blanking starts at a first match
        return []
    found = []
    for name, pattern in each_name:
        text, times_named = pattern.subn(" \x00 ", text)
        if times_named:
            found.append(name)
    return sorted(found)


def impact_from_words(title: str | None, text: str | None, update_statuses: Iterable[str] = ()) -> str | None:
    """The impact the vendor's words state: maintenance for a maintenance notice, else the worst of
    critical / major / minor whose phrases appear in `text` (title and bodies), else None."""
    words = _status_words()
    if words.maintenance_title.search(title or ""):
        return "maintenance"
    if words.maintenance_statuses.intersection(update_statuses):
        return "maintenance"
    for level in IMPACT_ORDER:
        if words.impacts[level].search(text or ""):
            return level
    return None


def inferred_components_and_impact(
    incidents: pl.DataFrame, updates: pl.DataFrame, component_names: Mapping[str, Iterable[str]]
) -> pl.DataFrame:
    """Per incident: components named in its title and update bodies, and the impact its words state.

    incidents: provider, incident_id, title, needs_components, needs_impact (booleans: the words are
    read only where the mart uses them, i.e. where the source lists no component / publishes no
    impact; elsewhere the inferred value is null); updates: provider, incident_id, status, body
    (lower-cased statuses); component_names: provider -> configured component names.
    """
    needing = incidents.filter(pl.col("needs_components") | pl.col("needs_impact"))
    words = updates.join(needing.select(KEYS), on=KEYS, how="semi").group_by(KEYS).agg(
        bodies=pl.col("body").drop_nulls().str.join("\n"), statuses=pl.col("status").drop_nulls()
    )
    texts = needing.join(words, on=KEYS, how="left")
    components, impacts = [], []
    for provider, title, bodies, statuses, needs_components, needs_impact in texts.select(
        "provider", "title", "bodies", "statuses", "needs_components", "needs_impact"
    ).iter_rows():
        text = "\n".join(t for t in (title, bodies) if t)
        names = component_names.get(provider, ())
        components.append(components_named(text, names) if needs_components else None)
        impacts.append(impact_from_words(title, text, statuses or ()) if needs_impact else None)
    return texts.select(
        *KEYS,
        inferred_components=pl.Series(components, dtype=pl.List(pl.String)),
        inferred_impact=pl.Series(impacts, dtype=pl.String),
    )


def _listed_components(affected: pl.DataFrame) -> pl.DataFrame:
    """Per incident: the sorted component names its source lists (affected components)."""
    return (
        affected.filter(pl.col("component_name").is_not_null())
        .group_by(KEYS)
        .agg(listed_components=pl.col("component_name").unique().sort())
    )


def _capabilities(frame: pl.DataFrame, capabilities: Mapping[str, Mapping[str, str]]) -> pl.DataFrame:
    """Per incident: the sorted capabilities of its components (names without a mapping are skipped)."""
    cap_frame = pl.DataFrame(
        [(p, name, cap) for p, mapping in capabilities.items() for name, cap in mapping.items()],
        schema={"provider": pl.String, "component_name": pl.String, "capability": pl.String},
        orient="row",
    )
    return (
        frame.select(*KEYS, "components")
        .explode("components")
        .rename({"components": "component_name"})
        .join(cap_frame, on=["provider", "component_name"], how="inner")
        .group_by(KEYS)
        .agg(capabilities=pl.col("capability").unique().sort())
    )


def with_components_and_impact(
    frame: pl.DataFrame,
    updates: pl.DataFrame,
    affected: pl.DataFrame,
    capabilities: Mapping[str, Mapping[str, str]],
) -> pl.DataFrame:
    """Listed components and the published impact where the source gives them, else what the incident's
    own words name, marked as inferred (components_inferred, impact_inferred); then the capabilities of
    those components. frame: conformed incidents; updates, affected: conformed staging tables."""
    empty_list = pl.lit([], dtype=pl.List(pl.String))
    frame = frame.join(_listed_components(affected), on=KEYS, how="left").with_columns(
        listed_components=pl.col("listed_components").fill_null(empty_list)
    )
    needs = frame.select(
        *KEYS,
        "title",
        needs_components=pl.col("listed_components").list.len() == 0,
        needs_impact=pl.col("impact").is_null(),
    )
    inferred = inferred_components_and_impact(needs, updates, capabilities)
    frame = (
        frame.join(inferred, on=KEYS, how="left")
        .with_columns(inferred_components=pl.col("inferred_components").fill_null(empty_list))
        .with_columns(
            components_inferred=(pl.col("listed_components").list.len() == 0)
            & (pl.col("inferred_components").list.len() > 0),
            impact_inferred=pl.col("impact").is_null() & pl.col("inferred_impact").is_not_null(),
        )
        .with_columns(
            components=pl.when("components_inferred")
            .then("inferred_components")
            .otherwise("listed_components"),
            impact=pl.coalesce("impact", "inferred_impact"),
        )
    )
    return frame.join(_capabilities(frame, capabilities), on=KEYS, how="left").with_columns(
        pl.col("capabilities").fill_null(empty_list)
    )
