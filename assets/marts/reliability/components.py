"""Which components marts.component_reliability reports per provider, and which incidents hit each."""

from collections.abc import Mapping

import polars as pl

COMPONENT_ALL = "(all)"  # incidents that name no component: the provider's whole page
COMPONENT_PROVIDER = "(provider)"  # provider-level row over the union of its components' timelines


def incident_components(incidents: pl.DataFrame) -> pl.DataFrame:
    """One row per (incident, component); an incident naming no component becomes '(all)'."""
    return incidents.with_columns(
        component=pl.when(pl.col("components").list.len() > 0)
        .then(pl.col("components"))
        .otherwise(pl.lit([COMPONENT_ALL], dtype=pl.List(pl.String)))
    ).explode("component")


def component_universe(
    incidents: pl.DataFrame, capabilities: Mapping[str, Mapping[str, str]]
) -> pl.DataFrame:
    """(provider, component) rows to report: components named by a provider's incidents, plus its
    configured components when its incidents name components at all (or it has no incidents), '(all)'
    when some incident names none, and '(provider)' for every provider."""
    rows: set[tuple[str, str]] = set()
    providers = set(capabilities) | set(incidents["provider"].drop_nulls().to_list())
    for provider in providers:
        mine = incidents.filter(pl.col("provider") == provider)
        named = set(mine["components"].explode().drop_nulls().to_list())
        rows.update((provider, name) for name in named)
        if named or mine.is_empty():
            rows.update((provider, name) for name in capabilities.get(provider, {}))
        if (mine["components"].list.len() == 0).any():
            rows.add((provider, COMPONENT_ALL))
        rows.add((provider, COMPONENT_PROVIDER))
    return pl.DataFrame(
        [(p, c, capabilities.get(p, {}).get(c)) for p, c in sorted(rows)],
        schema={"provider": pl.String, "component": pl.String, "capability": pl.String},
        orient="row",
    )
