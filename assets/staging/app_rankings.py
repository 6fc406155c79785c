"""staging.app_ranks: daily App Store top-chart positions per country, with our providers' apps tagged."""

import datetime as dt

import dagster as dg
import polars as pl

from assets.ingest.app_rankings.days import parse_app_days
from assets.ingest.app_rankings.schema import FEED_FORMATS, HISTORY_FORMAT, SOURCE, STAGING_SCHEMA
from assets.staging import raw
from assets.staging.crowd_reports import write_day_parse
from pipelines.core import tables
from pipelines.core.partitions import FIRST_DAY, daily_partitions, single_run
from pipelines.core.quality import (
    Check,
    between,
    has_columns,
    in_set,
    not_null,
    start_check,
    unique_together,
)
from pipelines.core.resources import Workspace
from pipelines.core.step_order import INGEST_FIRST

APP_RANKS_CHECK = "app_ranks_valid"


@dg.asset(
    key=tables.APP_RANKS,
    deps=[raw.app_rankings],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    group_name="staging",
    op_tags=INGEST_FIRST,
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(
        APP_RANKS_CHECK, asset=tables.APP_RANKS, blocking=True,
        description="Great Expectations suite; bad data stops the run:\n- all declared columns present\n"
                    "- app id (unless the feed names the app only), `app_name`, `country`, `chart` never null\n"
                    "- `rank` >= 1\n- `country` one of the configured countries; `feed_format` a known format\n"
                    "- one row per (`partition_day`, `country`, `chart`, `rank`)")],
)
def app_ranks(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Where each app stood in the App Store charts, per day, country and chart (a user-migration signal).

    One row per accepted chart entry of `raw/app_rankings/<day>/<country>-<chart>.json` (Apple RSS v2 or legacy
    iTunes RSS, fetched that day), and per row of rank-history CSVs exported from other tools (any name, any
    day folder: each row goes to the day in its `date` column).
    - partition_day, day: the UTC day of the chart (a feed's folder day, a history row's date)
    - country: lower-case 2-letter store country; chart: chart slug from the file name (e.g. top-free)
    - rank: position in the chart, 1 = top
    - app_id: Apple app id (null only for a rank-history row that names, without an id, an app not configured)
    - app_name, artist_name: as listed in the chart
    - provider: our provider key when the app is one of the configured apps, else null
    - feed_format: apple_rss_v2, itunes_legacy or rank_history_csv
    - feed_updated (UTC) / feed_updated_text: the feed's stamp (null for histories)
    - file, record_no: the source file under the data dir and the entry's position in it
    """
    days = list(context.partition_keys)
    config = workspace.providers()
    countries = [c.lower() for c in config.app_store.countries]
    app_names = {name: app_id for provider in config.providers.values() for name, app_id in provider.apps.items()}
    parsed = parse_app_days(
        workspace.settings.data_dir,
        days,
        config.provider_for_app_id(),
        countries,
        app_names,
        dt.datetime.now(dt.UTC),
        FIRST_DAY,
    )
    check = app_ranks_check(parsed.accepted, countries)
    write_day_parse(workspace, tables.APP_RANKS, SOURCE, days, parsed)
    context.log.info(parsed.summary("app ranks", days))
    return dg.MaterializeResult(
        metadata={
            **parsed.counts(days),
            "empty_feeds": dg.MetadataValue.json(parsed.empty_feeds),
            "provider_apps_ranked": parsed.accepted.filter(pl.col("provider").is_not_null()).height,
        },
        check_results=[check.result()],
    )


def app_ranks_check(accepted: pl.DataFrame, countries: list[str]) -> Check:
    """Blocking: every row has an app name and (but for name-only histories) an id, a rank >= 1, a configured
    country, one app per rank."""
    frame = accepted.with_columns(
        pl.when(pl.col("feed_format") == HISTORY_FORMAT)
        .then(pl.coalesce("app_id", pl.lit("named only")))
        .otherwise(pl.col("app_id"))
        .alias("app_id_unless_named_only")
    )
    return start_check(
        APP_RANKS_CHECK,
        frame,
        [
            has_columns(*STAGING_SCHEMA),
            not_null("app_id_unless_named_only"),
            not_null("app_name"),
            not_null("country"),
            not_null("chart"),
            between("rank", 1, None),
            in_set("country", countries),
            in_set("feed_format", FEED_FORMATS),
            unique_together("partition_day", "country", "chart", "rank"),
        ],
    )
