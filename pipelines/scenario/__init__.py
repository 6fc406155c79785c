"""The bundled scenario: a seeded, deterministic generator of raw files around the 2 March 2026 Claude outage.

`generate(data_dir, seed=2026, start="2025-12-01", end="2026-03-15", scale=1.0, shift_days=0)` writes, for every
UTC day in [start, end], the raw files of the four sources exactly in the contract layout under `<data_dir>/raw/`:

* `status_pages/<provider>/<stamp>-incidents.json|-summary.json|.atom|.rss` (status_pages.py)
* `app_rankings/<day>/<country>-top-free.json` (app_rankings.py)
* `crowd_reports/<day>/<service>.csv|.jsonl|.jsonl.gz` (crowd_reports.py)
* `request_logs/<day>/<provider>.jsonl|google.csv|gateway-access.log.gz|api.openai.com-access.log` (request_logs.py)

and the planted truth to `<data_dir>/scenario/truth.json`, returned as a `Truth` dataclass. The same seed (and
arguments and providers config) gives byte-identical files; a day's files do not depend on the range asked for
(except which status snapshots carry the planted malformed records). All randomness comes from numpy Generators
seeded from `seed` and fixed keys (see rng.py); every writer reads the one world built by world.py. It is
synthetic, calibrated on public reporting of the March 2026 events. Long literal tables (the app catalogue,
incident texts, the gateway's endpoints and models) live in data/*.json.

`shift_days` (a multiple of 7, so weekly cycles stay on their weekdays) moves the whole world: the same story,
draws and bytes, every file name, day folder, timestamp and truth time that many days away (-728: two years
earlier). The world is built on the canonical calendar and only written shifted (dates.Shift); status pages and
feeds render the shifted moment in its own zone, so Pacific display times follow the daylight-saving rules of the
shifted dates, and ids (incident.io ULIDs included) stay the canonical ones.

truth.json (times are UTC ISO 8601 with Z, days are YYYY-MM-DD):
  version, seed, start, end, scale, shift_days, sources  -- how the files were made (start/end shifted)
  outages[]      provider, name, incident_id, services (crowd service names), components, start, end (user-visible
                 failure window), user_visible_start, first_post_at, first_post_lag_minutes, identified_at,
                 identified_after_minutes, monitoring_at, resolved_at, postmortem_at, crowd_peak {country: reports in
                 the peak 5-minute bucket}, crowd_peak_at {country: bucket start}, telemetry (planted error
                 probabilities), in_window
  incidents[]    every vendor incident listed in at least one status snapshot of the range: provider, incident_id,
                 title, impact, components, component_status {component: worst status}, started_at and resolved_at
                 (the true failure window), first_post_at, identified_at, monitoring_at, page_resolved_at,
                 postmortem_at, page_started_at (Statuspage only), posted_after_the_fact (only a "resolved" update
                 whose body says "from HH:MM-HH:MM UTC"), planted, in_window, segments [{component, status, start,
                 end}] (the statuses the uptime maths weighs)
  ranks          chart, pentagon_deal_public, claude_us_rank_on_2026_02_17 (16), chatgpt_us_rank_on_2026_02_17 (1),
                 claude_first_day_at_1 (US), chatgpt_drop_day (first US day ChatGPT is not #1), legacy_format_days,
                 daily {country: {day: {provider: rank or null}}}
  traffic        crash_at, anthropic_user_growth_pct_dec_feb (60), migration_multiplier_48h (the planted load
                 multiplier over the 48 h before the crash), traffic_growth_48h_pct and
                 traffic_ratio_vs_trailing_7d_same_hour (Anthropic, from the expected-rate curves: last hour before
                 the crash vs 48 h earlier; 06:00-11:49 on 2 March vs the same window on the 7 days before),
                 anthropic_new_clients_by_day (planned arrivals of new client ids), anthropic_529_model (529 ratio =
                 min(cap, base_ratio * load(t - lag_hours) ** load_exponent), load = rate / 1 December base rate),
                 expected_request_rows, endpoint_capability {provider: {endpoint: capability}} (google endpoints
                 carry a `{model}` placeholder)
  migration_lag_hours   6: Anthropic's 529 ratio follows its traffic load this many hours later
  uptime         Anthropic pre-March uptime: window_first_day..window_last_day (inclusive UTC days), weights
                 (major_outage 1.0, partial_outage 0.3, degraded_performance 0), components,
                 weighted_downtime_minutes per component (the worst concurrent status per minute), uptime_pct
                 = 100 * (1 - sum(weighted minutes) / (components * window minutes)), target_pct, calibration_factor
  malformed_rows {source: n}, malformed_rows_per_file {source: {file: n}} and malformed_records [{source, file,
                 record_no, kind, line_no}]: planted bad records. record_no is 1-based: the line of a JSONL or log
                 file, the data row of a CSV (header not counted; line_no counts it), the incident/entry of a status
                 snapshot or the result/entry of a chart. Status snapshots: the incident with an unknown impact, an
                 invalid created_at or no id is the bad record.
  rows {source: records written}, rows_per_file {file: records} (good + malformed; a status snapshot's records are
                 its incidents/entries, a chart's its 100 apps)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from pipelines.core.config import ProvidersConfig, load_providers
from pipelines.core.settings import get_settings, safe_path
from pipelines.scenario.app_rankings import write_app_rankings
from pipelines.scenario.crowd_reports import write_crowd_reports
from pipelines.scenario.dates import DEFAULT_END, DEFAULT_START, Shift
from pipelines.scenario.output import Ledger
from pipelines.scenario.request_logs import write_request_logs
from pipelines.scenario.status_pages import listed_incident_ids, write_status_pages
from pipelines.scenario.truth import SOURCES, Truth
from pipelines.scenario.truth_build import build_truth
from pipelines.scenario.world import build_world

__all__ = ["SOURCES", "Truth", "generate", "load_truth", "truth_path"]

_WRITERS = {
    "status_pages": write_status_pages,
    "app_rankings": write_app_rankings,
    "crowd_reports": write_crowd_reports,
    "request_logs": write_request_logs,
}


def _day(value: str | dt.date, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"scenario {name} {value!r} is not a date like 2026-03-02") from exc


def _config(data_dir: Path, config: ProvidersConfig | Path | str | None) -> ProvidersConfig:
    if isinstance(config, ProvidersConfig):
        return config
    if config is not None:
        return load_providers(Path(config))
    local = data_dir / "config" / "providers.yaml"
    return load_providers(local if local.is_file() else get_settings().config_path)


def _shift(shift_days: int) -> Shift:
    """Whole weeks only: the world's weekly cycle (weekend traffic, Monday summaries, Sunday feeds) keeps its days."""
    if isinstance(shift_days, bool) or not isinstance(shift_days, int):
        raise TypeError(f"scenario shift_days must be a whole number of days, got {shift_days!r}")
    if shift_days % 7:
        earlier = shift_days - shift_days % 7
        raise ValueError(f"scenario shift_days must be a multiple of 7 so every day keeps its weekday "
                         f"(got {shift_days}; the nearest are {earlier} and {earlier + 7})")
    return Shift(shift_days)


def truth_path(data_dir: Path) -> Path:
    return safe_path(Path(data_dir), "scenario", "truth.json")


def load_truth(data_dir: Path) -> Truth:
    """The truth written by the last `generate()` into this data dir."""
    return Truth.load(truth_path(data_dir))


def generate(
    data_dir: Path,
    seed: int = 2026,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    scale: float = 1.0,
    *,
    sources: Iterable[str] = SOURCES,
    config: ProvidersConfig | Path | str | None = None,
    shift_days: int = 0,
) -> Truth:
    """Write the scenario's raw files for [start, end] under <data_dir>/raw and its truth; return the truth.

    `start`/`end` are days of the written (shifted) calendar and default to 2025-12-01..2026-03-15 moved by
    `shift_days` (a multiple of 7: the same world that many days away, see the package docstring).
    `scale` multiplies the request-log volume (about 1.3 million rows over the default 105 days at 1.0).
    `sources` limits which raw sources are written (the truth is complete either way, apart from row counts).
    `config` defaults to <data_dir>/config/providers.yaml, else INCIDENTS_CONFIG. Existing files of the same
    names are overwritten; nothing else under data_dir is touched.
    """
    data_dir = Path(data_dir)
    shift = _shift(shift_days)
    first = shift.day(DEFAULT_START) if start is None else _day(start, "start")
    last = shift.day(DEFAULT_END) if end is None else _day(end, "end")
    if last < first:
        raise ValueError(f"scenario end {last} is before start {first}")
    if not scale > 0:
        raise ValueError(f"scenario scale must be > 0 (got {scale!r})")
    chosen = tuple(sources)
    unknown = sorted(set(chosen) - set(SOURCES))
    if unknown:
        raise ValueError(f"unknown scenario source(s) {unknown}; choose from {list(SOURCES)}")
    back = Shift(-shift.days)  # the world is built on the canonical calendar
    world = build_world(int(seed), back.day(first), back.day(last), _config(data_dir, config), scale=float(scale),
                        shift=shift)
    ledger = Ledger(data_dir)
    for source in SOURCES:
        if source in chosen:
            _WRITERS[source](world, ledger)
    truth = build_truth(world, ledger, chosen, listed_incident_ids(world))
    path = truth_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(truth.to_json(), encoding="utf-8")
    return truth
