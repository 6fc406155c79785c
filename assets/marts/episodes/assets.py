"""The episode marts: thin assets that read the warehouse, call the detectors and write the result."""

import dagster as dg
import duckdb
import polars as pl

from assets.marts.episodes.crowd import crowd_baseline_table, crowd_episodes, crowd_look_back_start
from assets.marts.episodes.crowd_params import CROWD_BASELINE_SCHEMA, LEVELS, SERIES, CrowdDetectionParams
from assets.marts.episodes.outage import OUTAGE_EPISODE_SCHEMA, SOURCES, build_outage_episodes
from assets.marts.episodes.telemetry import DEFAULT_RULE, TELEMETRY_EPISODES_SCHEMA, telemetry_episodes
from pipelines.core import tables
from pipelines.core.catalog_metadata import table_metadata
from pipelines.core.minute_sli import providers_without, read_minute_sli, slo_settings
from pipelines.core.quality import (
    Expect,
    between,
    check_spec,
    has_columns,
    in_set,
    not_null,
    start_check,
    unique_together,
)
from pipelines.core.resources import Workspace
from pipelines.core.since import read_since, recompute_start, replace_since, rows_since
from pipelines.core.warehouse import read_table_if_exists, replace_table

CROWD_BASELINE_CHECK = "crowd_baseline_is_well_formed"
TELEMETRY_EPISODES_CHECK = "telemetry_episodes_valid"
OUTAGE_EPISODES_CHECK = "outage_episodes_are_well_formed"

CROWD_BASELINE_COLUMN_DOCS = {
    "provider": "provider of the crowd service (from the config's service mapping)",
    "service": "service name in the crowd-report export",
    "country": "country code of the reports",
    "bin_start": "start of the 5-minute bin (UTC)",
    "bin_minutes": "bin width, minutes",
    "reports": "user reports in the bin",
    "expected": "hour-of-week median over the 4 previous weeks (or the hour-of-day fallback)",
    "baseline_weeks": "trailing weeks behind expected (0 = hour-of-day fallback)",
    "baseline_kind": "trailing_weeks or hour_of_day_fallback",
    "dispersion": "negative-binomial alpha of the series",
    "p_value": "P(reports this high | a normal bin)",
    "anomalous": "p_value < 1e-4 and at least 10 reports",
    "flagged": "anomalous, and 2 of 3 consecutive bins anomalous",
    "level": "no_problem, possible_problem or problem (Downdetector-style)",
    "export_baseline": "the export's own baseline, when it had one",
}
TELEMETRY_COLUMN_DOCS = {
    "source": "always 'telemetry'",
    "provider": "provider key from the config",
    "service": "'api': our requests hit the API",
    "country": "null: telemetry has no country",
    "started_at": "first minute of the episode (UTC)",
    "peak_at": "minute of the episode's worst 20-request window",
    "ended_at": "end of the episode's last minute, exclusive (UTC)",
    "peak_value": "error ratio of the worst 20-request window",
    "baseline_value": "the provider's baseline error ratio tested against (7-day / 24-hour medians, floor 0.001)",
    "threshold": "config slo.error_ratio_threshold",
    "duration_minutes": "ended_at - started_at, minutes",
    "breaching_minutes": "minutes whose evidence window fired",
    "requests": "our requests in the episode",
    "errors_5xx": "5xx answers in the episode (except 529 and 504)",
    "errors_529": "529 overloaded answers in the episode",
    "timeouts": "timed-out requests in the episode",
    "errors_429": "429 answers in the episode (ours, not counted as failures)",
    "share_529": "errors_529 / errors",
    "share_5xx": "errors_5xx / errors",
    "share_timeouts": "timeouts / errors",
    "dominant_error_class": "the largest of 5xx, 529 and timeouts",
    "errors": "the provider's failures in the episode: errors_5xx + errors_529 + timeouts",
    "p_value": "P(that many errors | the baseline error ratio)",
    "confidence": "1 - p_value",
    "false_alarm_level": "the p-value an episode must reach (1e-6)",
}
OUTAGE_COLUMN_DOCS = {
    "episode_id": "stable hash of the episode",
    "source": "crowd, telemetry or status",
    "provider": "provider key from the config",
    "service": "crowd service, telemetry service, or the first affected status component",
    "country": "crowd or telemetry country; null for status",
    "started_at": "start of the episode (UTC)",
    "peak_at": "worst moment of the episode (UTC)",
    "ended_at": "end of the episode (UTC); status: null while the incident is open",
    "peak_value": "crowd: reports in the peak bin; telemetry: peak error ratio; status: impact rank 1-4",
    "baseline_value": "crowd: expected reports at the peak; telemetry: its baseline error ratio",
    "level": "crowd: the Downdetector-like level",
    "source_ref": "status: the vendor's incident id",
    "confidence": "crowd and telemetry: 1 - the episode's p-value; null for status",
}


def crowd_baseline_expectations() -> list:
    return [
        has_columns(*CROWD_BASELINE_SCHEMA),
        not_null("service"),
        not_null("bin_start"),
        not_null("expected"),
        unique_together("service", "country", "bin_start"),
        between("reports", 0, None),
        between("expected", 0, None),
        between("p_value", 0, 1),
        in_set("level", LEVELS),
    ]


@dg.asset(
    key=tables.CROWD_BASELINE,
    deps=[tables.CROWD_REPORTS],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[check_spec(CROWD_BASELINE_CHECK, tables.CROWD_BASELINE, crowd_baseline_expectations())],
)
def crowd_baseline(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """How unusual each 5-minute bin of crowd reports is, per service and country (Downdetector-style):
    a bin is flagged when its reports are improbable against the same hour of the previous 4 weeks and
    its neighbours agree. Column meanings: see the column schema (CROWD_BASELINE_COLUMN_DOCS).

    A run naming its window recomputes the bins from the window's start on, from the reports since its
    look-back (`crowd_look_back_start`: the 4 weeks before); earlier bins stay as written (see `since`).
    """
    params = CrowdDetectionParams()
    window_start = recompute_start(workspace.providers(), context.run.tags)
    read_from = crowd_look_back_start(window_start, params) if window_start is not None else None
    with workspace.warehouse() as con:
        reports = read_since(
            con, tables.CROWD_REPORTS, "ts, service, provider, country, reports, baseline", "ts", read_from
        )
    if reports is None:
        context.log.warning(
            f"{tables.sql_name(tables.CROWD_REPORTS)} does not exist yet: writing an empty crowd baseline"
        )
        reports = pl.DataFrame()
    table = crowd_baseline_table(reports, params, workspace.providers().provider_for_crowd_service())
    table = rows_since(table, "bin_start", window_start)
    check = start_check(CROWD_BASELINE_CHECK, table, crowd_baseline_expectations())
    with workspace.warehouse() as con:
        replace_since(con, tables.CROWD_BASELINE, table, "bin_start", window_start)
    levels = table.group_by("level").len()
    return dg.MaterializeResult(
        metadata={
            **table_metadata(table, CROWD_BASELINE_COLUMN_DOCS),
            "rows": table.height,
            "series": table.select(SERIES).n_unique() if table.height else 0,
            "bin_minutes": int(table["bin_minutes"][0]) if table.height else params.bin_minutes,
            "flagged_bins": int(table["flagged"].sum()) if table.height else 0,
            "bins_per_level": dg.MetadataValue.json(
                {r["level"]: r["len"] for r in levels.iter_rows(named=True)}
            ),
        },
        check_results=[check.result()],
    )


def telemetry_expectations() -> list:
    return [
        has_columns(*TELEMETRY_EPISODES_SCHEMA),
        in_set("source", {"telemetry"}),
        not_null("provider"),
        not_null("started_at"),
        not_null("ended_at"),
        between("peak_value", 0, 1),
        between("duration_minutes", 1, None),
        between("confidence", 0, 1),
        between("p_value", 0, DEFAULT_RULE.false_alarm_level),
    ]


@dg.asset(
    key=tables.TELEMETRY_EPISODES,
    deps=[tables.MINUTE_SLI],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[check_spec(TELEMETRY_EPISODES_CHECK, tables.TELEMETRY_EPISODES, telemetry_expectations())],
)
def telemetry_episodes_asset(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Outages seen in our own API telemetry, in the columns of marts.outage_episodes (source='telemetry').

    Decided on evidence, at any volume: each minute's evidence window pools the minutes before it until
    it holds 20 (also 60 and 200) requests, at most 120 minutes; it fires when its error ratio (5xx + 529
    + timeouts over requests) is above config slo.error_ratio_threshold AND binomially improbable under
    the provider's baseline (P <= 1e-6). Fired windows close together (<= 5 min, or a gap with too few
    requests to show recovery) form a span, trimmed to its likeliest segment (CUSUM); the episode is kept
    when that segment passes the same two tests. Column meanings: see the column schema
    (TELEMETRY_COLUMN_DOCS).

    A run naming its window recomputes the episodes that end in or after it, from the minute SLI since its
    start minus the evidence's look-back (`EvidenceRule.look_back`: 8 days); earlier episodes stay as written.
    """
    window_start = recompute_start(workspace.providers(), context.run.tags)
    read_from = window_start - DEFAULT_RULE.look_back if window_start is not None else None
    with workspace.warehouse() as con:
        minute_sli = read_minute_sli(con, read_from)
    thresholds = slo_settings(workspace, "error_ratio_threshold")
    episodes = rows_since(telemetry_episodes(minute_sli, thresholds), "ended_at", window_start)
    check = start_check(TELEMETRY_EPISODES_CHECK, episodes, telemetry_expectations())
    with workspace.warehouse() as con:
        replace_since(con, tables.TELEMETRY_EPISODES, episodes, "ended_at", window_start)
    return dg.MaterializeResult(
        metadata={
            **table_metadata(episodes, TELEMETRY_COLUMN_DOCS),
            "episodes": episodes.height,
            "providers_without_threshold": dg.MetadataValue.json(providers_without(minute_sli, thresholds)),
        },
        check_results=[check.result()],
    )


def outage_episode_expectations() -> list:
    return [
        has_columns(*OUTAGE_EPISODE_SCHEMA),
        not_null("episode_id"),
        not_null("source"),
        not_null("started_at"),
        in_set("source", SOURCES),
        Expect("ExpectColumnValuesToBeUnique", {"column": "episode_id"}),
    ]


def _read(
    con: duckdb.DuckDBPyConnection, table: dg.AssetKey, context: dg.AssetExecutionContext, where: str = ""
) -> pl.DataFrame:
    frame = read_table_if_exists(con, table, "*", where)
    if frame is None:
        context.log.warning(f"{tables.sql_name(table)} does not exist yet: no episodes from it")
        return pl.DataFrame()
    return frame


@dg.asset(
    key=tables.OUTAGE_EPISODES,
    deps=[tables.CROWD_BASELINE, tables.TELEMETRY_EPISODES, tables.INCIDENTS],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[check_spec(OUTAGE_EPISODES_CHECK, tables.OUTAGE_EPISODES, outage_episode_expectations())],
)
def outage_episodes(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Outage episodes seen by each evidence source: crowd reports, our own telemetry, vendor status pages,
    in one shape so they can be reconciled. Column meanings: see the column schema (OUTAGE_COLUMN_DOCS).
    """
    with workspace.warehouse() as con:
        flagged = _read(con, tables.CROWD_BASELINE, context, "WHERE flagged")
        telemetry = _read(con, tables.TELEMETRY_EPISODES, context)
        incidents = _read(con, tables.INCIDENTS, context)
    crowd = crowd_episodes(flagged, CrowdDetectionParams()) if flagged.height else pl.DataFrame()
    episodes = build_outage_episodes(crowd, telemetry, incidents)
    check = start_check(OUTAGE_EPISODES_CHECK, episodes, outage_episode_expectations())
    with workspace.warehouse() as con:
        replace_table(con, tables.OUTAGE_EPISODES, episodes)
    per_source = {r["source"]: r["len"] for r in episodes.group_by("source").len().iter_rows(named=True)}
    return dg.MaterializeResult(
        metadata={
            **table_metadata(episodes, OUTAGE_COLUMN_DOCS),
            "rows": episodes.height,
            "episodes_per_source": dg.MetadataValue.json(per_source),
        },
        check_results=[check.result()],
    )
