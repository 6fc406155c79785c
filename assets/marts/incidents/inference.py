"""Components and impact read from an incident's own words, for sources that publish neither.

Atom/RSS history feeds (and incident.io pages) often list no affected components and no impact; they
name the product in the text instead ("Degraded performance for Claude Code"). Such an incident gets:
- components: every configured component name (providers.yaml `components:` keys of its provider)
  that appears in its title or update bodies as whole words, case-insensitively; the longest name is
  matched first, so "Claude API" does not also count as "API";
- impact: the worst level named by the status words of `data/status_words.json` in the same text, or
  maintenance for a maintenance notice.
The mart marks both as inferred (`components_inferred`, `impact_inferred`); a listed component or a
published impact always wins over the text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import polars as pl

STATUS_WORDS_FILE = Path(__file__).with_name("data") / "status_words.json"
KEYS = ["provider", "incident_id"]
IMPACT_ORDER = ("critical", "major", "minor")  # worst first
INFERRED_SCHEMA = {
    "provider": pl.String,
    "incident_id": pl.String,
    "inferred_components": pl.List(pl.String),
    "inferred_impact": pl.String,
}


def _whole_words(phrase: str) -> re.Pattern[str]:
    """`phrase` as whole words, any case, any run of spaces between its words."""
    body = r"\s+".join(re.escape(word) for word in phrase.split())
    return re.compile(rf"(?<!\w){body}(?!\w)", re.IGNORECASE)


@cache
def _status_words() -> tuple[dict[str, list[re.Pattern[str]]], list[re.Pattern[str]], frozenset[str]]:
    words = json.loads(STATUS_WORDS_FILE.read_text(encoding="utf-8"))
    impacts = {level: [_whole_words(p) for p in words["impact_phrases"][level]] for level in IMPACT_ORDER}
    maintenance = [_whole_words(p) for p in words["maintenance_title_phrases"]]
    return impacts, maintenance, frozenset(words["maintenance_update_statuses"])


def components_named(text: str | None, names: Iterable[str]) -> list[str]:
    """The configured component names that `text` names as whole words (any case), sorted.

    Longest names first, and a matched name is blanked out, so a short name inside a longer one
    ("API" in "Claude API") is only counted when it also stands on its own.
    """
    if not text:
        return []
    found = []
    for name in sorted({n for n in names if n and n.strip()}, key=lambda n: (-len(n), n)):
        pattern = _whole_words(name)
        if pattern.search(text):
            found.append(name)
            text = pattern.sub(" \x00 ", text)
    return sorted(found)


def impact_from_words(title: str | None, text: str | None, update_statuses: Iterable[str] = ()) -> str | None:
    """The impact the vendor's words state: maintenance for a maintenance notice, else the worst of
    critical / major / minor whose phrases appear in `text` (title and bodies), else None."""
    impacts, maintenance, maintenance_statuses = _status_words()
    if any(p.search(title or "") for p in maintenance) or maintenance_statuses & set(update_statuses):
        return "maintenance"
    for level in IMPACT_ORDER:
        if any(p.search(text or "") for p in impacts[level]):
            return level
    return None


def inferred_components_and_impact(
    incidents: pl.DataFrame, updates: pl.DataFrame, component_names: Mapping[str, Iterable[str]]
) -> pl.DataFrame:
    """Per incident: components named in its title and update bodies, and the impact its words state.

    incidents: provider, incident_id, title; updates: provider, incident_id, status, body (lower-cased
    statuses); component_names: provider -> configured component names.
    """
    words = updates.group_by(KEYS).agg(
        bodies=pl.col("body").drop_nulls().str.join("\n"), statuses=pl.col("status").drop_nulls()
    )
    texts = incidents.select(*KEYS, "title").join(words, on=KEYS, how="left")
    rows = []
    for row in texts.iter_rows(named=True):
        text = "\n".join(t for t in (row["title"], row["bodies"]) if t)
        names = component_names.get(row["provider"], ())
        rows.append(
            (
                row["provider"],
                row["incident_id"],
                components_named(text, names),
                impact_from_words(row["title"], text, row["statuses"] or ()),
            )
        )
    return pl.DataFrame(rows, schema=INFERRED_SCHEMA, orient="row")


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
    inferred = inferred_components_and_impact(frame, updates, capabilities)
    frame = (
        frame.join(_listed_components(affected), on=KEYS, how="left")
        .join(inferred, on=KEYS, how="left")
        .with_columns(
            listed_components=pl.col("listed_components").fill_null(empty_list),
            inferred_components=pl.col("inferred_components").fill_null(empty_list),
        )
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
