"""The episode marts: thin assets that read the warehouse, call the detectors and write the result."""

import dagster as dg
import duckdb
import polars as pl

from assets.marts.episodes.crowd import crowd_baseline_table, crowd_episodes
from assets.marts.episodes.crowd_params import CROWD_BASELINE_SCHEMA, LEVELS, SERIES, CrowdDetectionParams
from assets.marts.episodes.outage import OUTAGE_EPISODE_SCHEMA, SOURCES, build_outage_episodes
from assets.marts.episodes.telemetry import DEFAULT_RULE, TELEMETRY_EPISODES_SCHEMA, telemetry_episodes
from pipelines.core import tables
from pipelines.core.minute_sli import providers_without, read_minute_sli, slo_settings
from pipelines.core.quality import (
    Expect,
    between,
    check_result,
    has_columns,
    in_set,
    not_null,
    unique_together,
)
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import read_table_if_exists, replace_table

CROWD_BASELINE_CHECK = "crowd_baseline_is_well_formed"
TELEMETRY_EPISODES_CHECK = "telemetry_episodes_valid"
OUTAGE_EPISODES_CHECK = "outage_episodes_are_well_formed"


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
    check_specs=[dg.AssetCheckSpec(CROWD_BASELINE_CHECK, asset=tables.CROWD_BASELINE, blocking=True)],
)
def crowd_baseline(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """How unusual each 5-minute bin of crowd reports is, per service and country (Downdetector-style).

    Columns: provider (from the service mapping), service, country, bin_start (UTC), bin_minutes (bin
    width), reports (user reports in the bin), expected (hour-of-week median over the 4 previous weeks,
    or the hour-of-day fallback at the start of the data), baseline_weeks (trailing weeks behind
    `expected`, 0 = fallback), baseline_kind (trailing_weeks | hour_of_day_fallback), dispersion
    (negative-binomial alpha of the series), p_value (P(reports this high | normal)), anomalous
    (p < 1e-4 and >= 10 reports), flagged (anomalous and 2 of 3 consecutive bins anomalous), level
    (no_problem | possible_problem | problem), export_baseline (the export's own baseline, if it had one).
    """
    params = CrowdDetectionParams()
    with workspace.warehouse() as con:
        reports = read_table_if_exists(
            con, tables.CROWD_REPORTS, "ts, service, provider, country, reports, baseline"
        )
    if reports is None:
        context.log.warning(
            f"{tables.sql_name(tables.CROWD_REPORTS)} does not exist yet: writing an empty crowd baseline"
        )
        reports = pl.DataFrame()
    table = crowd_baseline_table(reports, params, workspace.providers().provider_for_crowd_service())
    with workspace.warehouse() as con:
        replace_table(con, tables.CROWD_BASELINE, table)
    levels = table.group_by("level").len()
    return dg.MaterializeResult(
        metadata={
            "rows": table.height,
            "series": table.select(SERIES).n_unique() if table.height else 0,
            "bin_minutes": int(table["bin_minutes"][0]) if table.height else params.bin_minutes,
            "flagged_bins": int(table["flagged"].sum()) if table.height else 0,
            "bins_per_level": dg.MetadataValue.json(
                {r["level"]: r["len"] for r in levels.iter_rows(named=True)}
            ),
        },
        check_results=[check_result(CROWD_BASELINE_CHECK, table, crowd_baseline_expectations())],
    )


@dg.asset(
    key=tables.TELEMETRY_EPISODES,
    deps=[tables.MINUTE_SLI],
    group_name="marts",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(TELEMETRY_EPISODES_CHECK, asset=tables.TELEMETRY_EPISODES, blocking=True)],
)
def telemetry_episodes_asset(workspace: Workspace) -> dg.MaterializeResult:
    """Outages seen in our own API telemetry, in the columns of marts.outage_episodes (source='telemetry').

    Decided on evidence, at any volume: each minute's evidence window pools the minutes before it until
    it holds 20 (also 60 and 200) requests, at most 120 minutes; it fires when its error ratio (5xx + 529
    + timeouts over requests) is above config slo.error_ratio_threshold AND binomially improbable under
    the provider's baseline (P <= 1e-6). Fired windows close together (<= 5 min, or a gap with too few
    requests to show recovery) form a span, trimmed to its likeliest segment (CUSUM); the episode is kept
    when that segment passes the same two tests.
    - source 'telemetry'; provider; service 'api' (our requests hit the API); country null.
    - started_at / ended_at: first minute of the segment / end of its last minute (exclusive).
    - peak_at / peak_value: minute and error ratio of the episode's worst 20-request window.
    - baseline_value: the provider's baseline error ratio tested against: max of the median daily ratio
      of the 7 days before and the median hourly ratio of the 24 hours before (floor 0.001).
    - threshold, duration_minutes, breaching_minutes (minutes whose evidence window fired), requests and
      errors (the provider's failures) in the episode, p_value = P(that many errors | baseline),
      confidence = 1 - p_value, false_alarm_level (1e-6); errors_5xx / errors_529 / timeouts /
      errors_429; share_529 / share_5xx / share_timeouts of the provider's errors; dominant_error_class.
    """
    with workspace.warehouse() as con:
        minute_sli = read_minute_sli(con)
    thresholds = slo_settings(workspace, "error_ratio_threshold")
    episodes = telemetry_episodes(minute_sli, thresholds)
    with workspace.warehouse() as con:
        replace_table(con, tables.TELEMETRY_EPISODES, episodes)
    return dg.MaterializeResult(
        metadata={
            "episodes": episodes.height,
            "providers_without_threshold": dg.MetadataValue.json(providers_without(minute_sli, thresholds)),
        },
        check_results=[
            check_result(
                TELEMETRY_EPISODES_CHECK,
                episodes,
                [
                    has_columns(*TELEMETRY_EPISODES_SCHEMA),
                    in_set("source", {"telemetry"}),
                    not_null("provider"),
                    not_null("started_at"),
                    not_null("ended_at"),
                    between("peak_value", 0, 1),
                    between("duration_minutes", 1, None),
                    between("confidence", 0, 1),
                    between("p_value", 0, DEFAULT_RULE.false_alarm_level),
                ],
            )
        ],
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
    check_specs=[dg.AssetCheckSpec(OUTAGE_EPISODES_CHECK, asset=tables.OUTAGE_EPISODES, blocking=True)],
)
def outage_episodes(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Outage episodes seen by each evidence source: crowd reports, our own telemetry, vendor status pages.

    Columns: episode_id (stable hash), source (crowd | telemetry | status), provider, service (crowd
    service, telemetry service, or first affected status component), country (crowd/telemetry; null
    for status), started_at, peak_at, ended_at (UTC; status: null while the incident is open),
    peak_value (crowd: reports in the peak bin; telemetry: peak error ratio; status: impact rank 1-4),
    baseline_value (crowd: expected reports at the peak; telemetry: its baseline), level (crowd:
    Downdetector-like level), source_ref (status: the vendor incident id), confidence (crowd and
    telemetry: 1 - the episode's p-value; null for status).
    """
    with workspace.warehouse() as con:
        flagged = _read(con, tables.CROWD_BASELINE, context, "WHERE flagged")
        telemetry = _read(con, tables.TELEMETRY_EPISODES, context)
        incidents = _read(con, tables.INCIDENTS, context)
    crowd = crowd_episodes(flagged, CrowdDetectionParams()) if flagged.height else pl.DataFrame()
    episodes = build_outage_episodes(crowd, telemetry, incidents)
    with workspace.warehouse() as con:
        replace_table(con, tables.OUTAGE_EPISODES, episodes)
    per_source = {r["source"]: r["len"] for r in episodes.group_by("source").len().iter_rows(named=True)}
    return dg.MaterializeResult(
        metadata={"rows": episodes.height, "episodes_per_source": dg.MetadataValue.json(per_source)},
        check_results=[check_result(OUTAGE_EPISODES_CHECK, episodes, outage_episode_expectations())],
    )
