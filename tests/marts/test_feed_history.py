"""Status-page history only, as a user brings it: Atom history feeds over four years (2021-2024), no other
source, through the real parser, staging and the two marts in one Dagster run over that window.

The feeds list no components and no impact (like many real history feeds): marts.incidents reads both from
the text; marts.component_reliability then has components to work with, and tells "no data" (a provider
with no snapshot) from "nothing happened" (a provider whose snapshots show no incident). Every expected
value is worked out by hand beside it.
"""

from __future__ import annotations

import datetime as dt
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import polars as pl
import pytest
import yaml

from assets.marts.incidents.assets import incidents
from assets.marts.reliability.assets import component_reliability
from assets.marts.reliability.components import COMPONENT_PROVIDER
from assets.staging.status_pages import status_pages
from pipelines.core.warehouse import connect, read_table
from pipelines.core.window import Window

UTC = dt.UTC
PACIFIC = ZoneInfo("America/Los_Angeles")
WINDOW = Window(dt.date(2021, 1, 1), dt.date(2024, 12, 31), "run")
SNAPSHOT_AT = dt.datetime(2024, 12, 31, 23, 0, tzinfo=UTC)  # the file stamp below
# (title, start, minutes, update bodies oldest first) -- texts name products, never list them
MONTHLY = [
    ("Partial outage for API", dt.datetime(year, month, 15, 10, tzinfo=UTC), 120, ["Some API requests fail."])
    for year in range(2021, 2025)
    for month in range(1, 13)
]
EXTRA_2023_03 = [
    (
        "Degraded performance for Claude Code",
        dt.datetime(2023, 3, 20, 8, tzinfo=UTC),
        60,
        ["We are investigating degraded performance for claude code."],
    ),
    (
        "Major outage of claude.ai and Claude Code",
        dt.datetime(2023, 3, 22, 8, tzinfo=UTC),
        30,
        ["Logins fail on claude.ai and in Claude Code."],
    ),
]


def _display(moment: dt.datetime) -> str:
    local = moment.astimezone(PACIFIC)
    return (
        f"<small>{local:%b} <var data-var='date'>{local.day}</var>, <var data-var='time'>{local:%H:%M}</var> "
        f"{local.tzname()}</small>"
    )


def history_atom(host: str, entries: list[tuple[str, dt.datetime, int, list[str]]]) -> bytes:
    """A Statuspage-style Atom history feed (RFC 4287; updates newest first with Pacific display times)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<feed xml:lang="en-US" xmlns="http://www.w3.org/2005/Atom">',
        f"<id>tag:{host},2005:/history</id>",
        f'<link rel="alternate" type="text/html" href="https://{host}"/>',
        "<title>Status - Incident History</title>",
        f"<updated>{SNAPSHOT_AT.isoformat()}</updated>",
    ]
    for number, (title, start, minutes, bodies) in enumerate(entries):
        end = start + dt.timedelta(minutes=minutes)
        updates = [("Investigating", start, body) for body in bodies] + [
            ("Resolved", end, "This incident has been resolved.")
        ]
        html = "".join(
            f"<p>{_display(when)}<br><strong>{status}</strong> - {escape(body)}</p>"
            for status, when, body in reversed(updates)
        )
        lines += [
            "<entry>",
            f"<id>tag:{host},2005:Incident/{number}</id>",
            f"<published>{start.isoformat()}</published>",
            f"<updated>{end.isoformat()}</updated>",
            f'<link rel="alternate" type="text/html" href="https://{host}/incidents/inc{number:04d}"/>',
            f"<title>{escape(title)}</title>",
            f'<content type="html">{escape(html)}</content>',
            "</entry>",
        ]
    return ("\n".join([*lines, "</feed>"]) + "\n").encode()


@pytest.fixture
def feed_history(data_dir: Path) -> Path:
    """anthropic and openai publish Atom history feeds only; google is configured but never fetched."""
    config_path = data_dir / "config/providers.yaml"
    config = yaml.safe_load(config_path.read_text())
    config["providers"]["anthropic"]["status_page"] = {
        "kind": "atom",
        "url": "https://status.example.com/history.atom",
    }
    config["providers"]["anthropic"]["components"] = {
        "Claude Code": "coding_agent",
        "API": "api",
        "claude.ai": "consumer_app",
    }
    config["providers"]["openai"]["status_page"] = {
        "kind": "atom",
        "url": "https://status.example.org/history.atom",
    }
    config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    stamp = f"{SNAPSHOT_AT:%Y%m%dT%H%M%SZ}.atom"
    feeds = {
        "anthropic": history_atom("status.example.com", MONTHLY + EXTRA_2023_03),
        # openai's feed shows one incident back in 2020 and nothing since: four quiet years, seen
        "openai": history_atom(
            "status.example.org",
            [("Elevated errors on ChatGPT", dt.datetime(2020, 6, 1, 9, tzinfo=UTC), 45, ["Investigating."])],
        ),
    }
    for provider, feed in feeds.items():
        folder = data_dir / "raw/status_pages" / provider
        folder.mkdir(parents=True)
        (folder / stamp).write_bytes(feed)
    return data_dir


def one(frame: pl.DataFrame, **keys) -> dict:
    rows = frame.filter(pl.all_horizontal(pl.col(k) == v for k, v in keys.items())).to_dicts()
    assert len(rows) == 1, (keys, rows)
    return rows[0]


def test_four_years_of_feed_history_only(feed_history: Path, workspace):
    result = dg.materialize(
        [status_pages, incidents, component_reliability],
        resources={"workspace": workspace},
        tags=WINDOW.tags(),
    )
    assert result.success
    assert all(check.passed for check in result.get_asset_check_evaluations())
    with connect(feed_history / "warehouse.duckdb", read_only=True) as con:
        mart = read_table(con, "marts.incidents")
        reliability = read_table(con, "marts.component_reliability")

    # -- components, capabilities and impact read from the feed's words --
    assert mart.height == 48 + 2 + 1
    monthly = mart.filter(pl.col("title") == "Partial outage for API")
    assert (
        monthly["components"].to_list() == [["API"]] * 48
        and monthly["capabilities"].to_list() == [["api"]] * 48
    )
    assert monthly["impact"].unique().to_list() == ["major"]  # "partial outage" = Statuspage's major
    assert monthly["components_inferred"].all() and monthly["impact_inferred"].all()
    degraded = one(mart, title="Degraded performance for Claude Code")
    assert (degraded["components"], degraded["capabilities"], degraded["impact"]) == (
        ["Claude Code"],
        ["coding_agent"],
        "minor",
    )
    down = one(mart, title="Major outage of claude.ai and Claude Code")
    assert (down["components"], down["capabilities"], down["impact"]) == (
        ["Claude Code", "claude.ai"],
        ["coding_agent", "consumer_app"],
        "critical",
    )

    # -- the window as the run saw it, on every row, with 48 monthly periods --
    assert reliability.select("window_start", "window_end").unique().rows() == [
        (WINDOW.start_ts, WINDOW.end_ts)
    ]
    assert reliability.filter(pl.col("period") != "all")["period"].n_unique() == 48

    # -- uptime from the inferred components: 120 partial minutes a month weigh 0.3 * 120 = 36 --
    june_2022 = one(reliability, provider="anthropic", component="API", period="2022-06")
    assert june_2022["uptime_pct"] == pytest.approx(100 * (1 - 36 / (30 * 1440)))
    assert june_2022["incidents"] == 1 and june_2022["evidence_state"] == "incidents"
    # evidence starts at the oldest incident the feed lists (15 Jan 2021 10:00): 16 days 14 h of January
    january_2021 = one(reliability, provider="anthropic", component="API", period="2021-01")
    assert january_2021["evidence_minutes"] == 16 * 1440 + 14 * 60
    assert january_2021["uptime_pct"] == pytest.approx(100 * (1 - 36 / (16 * 1440 + 14 * 60)))
    # and ends at the snapshot, 31 Dec 2024 23:00: the last hour is not evidence
    assert one(reliability, provider="anthropic", component="API", period="2024-12")["evidence_minutes"] == (
        31 * 1440 - 60
    )
    # Claude Code in March 2023: 60 min degraded (weight 0) and 30 min major (weight 1)
    code = one(reliability, provider="anthropic", component="Claude Code", period="2023-03")
    assert (code["degraded_minutes"], code["major_outage_minutes"], code["incidents"]) == (60.0, 30.0, 2)
    assert code["uptime_pct"] == pytest.approx(100 * (1 - 30 / (31 * 1440)))
    assert (
        one(reliability, provider="anthropic", component=COMPONENT_PROVIDER, period="all")["incidents"] == 50
    )

    # -- seen and quiet is 100%; never seen is unknown --
    quiet = one(reliability, provider="openai", component=COMPONENT_PROVIDER, period="all")
    assert (
        quiet["uptime_pct"] == 100.0 and quiet["incidents"] == 0 and quiet["evidence_state"] == "no_incidents"
    )
    unseen = one(reliability, provider="google", component=COMPONENT_PROVIDER, period="all")
    assert unseen["uptime_pct"] is None and unseen["incidents"] is None
    assert unseen["evidence_state"] == "no_evidence"
    assert (
        unseen["uptime_missing_reason"] == "no status-page snapshot or incident of this provider was loaded"
    )
