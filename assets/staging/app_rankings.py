"""staging.app_ranks: daily App Store top-chart positions per country, with our providers' apps tagged."""


import dagster as dg
import polars as pl

from assets.ingest.app_rankings.days import parse_app_days
from assets.ingest.app_rankings.schema import FEED_FORMATS, SOURCE, STAGING_SCHEMA
from assets.staging import raw
from pipelines.core import tables
from pipelines.core.partitions import daily_partitions, single_run
from pipelines.core.quality import between, check_result, has_columns, in_set, not_null, unique_together
from pipelines.core.resources import Workspace
from pipelines.core.warehouse import replace_day_partitions

APP_RANKS_CHECK = "app_ranks_valid"


@dg.asset(
    key=tables.APP_RANKS,
    deps=[raw.app_rankings],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    group_name="staging",
    kinds={"duckdb", "polars"},
    check_specs=[dg.AssetCheckSpec(APP_RANKS_CHECK, asset=tables.APP_RANKS, blocking=True)],
)
def app_ranks(context: dg.AssetExecutionContext, workspace: Workspace) -> dg.MaterializeResult:
    """Where each app stood in the App Store charts, per day, country and chart (a user-migration signal).

    One row per accepted chart entry of raw/app_rankings/<day>/<country>-<chart>.json.
    - partition_day, day: the raw folder's UTC day the chart was fetched on
    - country: lower-case 2-letter store country; chart: chart slug from the file name (e.g. top-free)
    - rank: position in the chart, 1 = top
    - app_id: Apple app id; app_name, artist_name: as listed in the chart
    - provider: our provider key when the app is one of the configured apps, else null
    - feed_format: apple_rss_v2 or itunes_legacy; feed_updated (UTC) / feed_updated_text: the feed's stamp
    - file, record_no: the source file under the data dir and the entry's position in it
    """
    days = list(context.partition_keys)
    config = workspace.providers()
    countries = [c.lower() for c in config.app_store.countries]
    parsed = parse_app_days(workspace.settings.data_dir, days, config.provider_for_app_id(), countries)
    with workspace.warehouse() as con:
        replace_day_partitions(con, tables.APP_RANKS, SOURCE, days, parsed.accepted, parsed.files, parsed.rejects)
    context.log.info(parsed.summary("app ranks", days))
    return dg.MaterializeResult(
        metadata={
            **parsed.counts(days),
            "empty_feeds": dg.MetadataValue.json(parsed.empty_feeds),
            "provider_apps_ranked": parsed.accepted.filter(pl.col("provider").is_not_null()).height,
        },
        check_results=[app_ranks_check(parsed.accepted, countries)],
    )


def app_ranks_check(accepted: pl.DataFrame, countries: list[str]) -> dg.AssetCheckResult:
    """Blocking: every row has an app id and name, a rank >= 1, a configured country, one app per rank."""
    return check_result(
        APP_RANKS_CHECK,
        accepted,
        [
            has_columns(*STAGING_SCHEMA),
            not_null("app_id"),
            not_null("app_name"),
            not_null("country"),
            not_null("chart"),
            between("rank", 1, None),
            in_set("country", countries),
            in_set("feed_format", FEED_FORMATS),
            unique_together("partition_day", "country", "chart", "rank"),
        ],
    )
