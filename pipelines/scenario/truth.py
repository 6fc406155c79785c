"""The planted truth as a dataclass, saved to <data dir>/scenario/truth.json (layout: see the package docstring).

truth_build.py fills it from the world and the ledger of written files.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

SOURCES = ("status_pages", "app_rankings", "crowd_reports", "request_logs")
TRUTH_VERSION = 1


@dataclass(frozen=True)
class IncidentTruth:
    provider: str
    incident_id: str
    title: str
    impact: str
    components: list[str]
    component_status: dict[str, str]  # worst status per component during the incident
    started_at: str  # true start of the failure
    resolved_at: str  # true end of the failure
    first_post_at: str  # first status-page post (created_at)
    identified_at: str | None
    monitoring_at: str | None
    page_resolved_at: str | None  # the "resolved" update (after the fact for posted_after_the_fact)
    postmortem_at: str | None
    page_started_at: str | None  # what a Statuspage page shows as started_at (None for other page kinds)
    posted_after_the_fact: bool
    planted: bool
    in_window: bool  # started inside [start, end]
    segments: list[dict]  # {component, status, start, end}: the statuses weighted for uptime


@dataclass(frozen=True)
class OutageTruth:
    provider: str
    name: str
    incident_id: str
    services: list[str]
    components: list[str]
    start: str
    end: str  # user-visible end
    user_visible_start: str
    first_post_at: str
    first_post_lag_minutes: float
    identified_at: str
    identified_after_minutes: float
    monitoring_at: str | None
    resolved_at: str
    postmortem_at: str | None
    crowd_peak: dict[str, int]  # reports in the peak 5-minute bucket per country
    crowd_peak_at: dict[str, str]  # start of that bucket
    telemetry: dict[str, float]
    in_window: bool


@dataclass(frozen=True)
class RankTruth:
    chart: str
    pentagon_deal_public: str
    claude_us_rank_on_2026_02_17: int | None
    chatgpt_us_rank_on_2026_02_17: int | None
    claude_first_day_at_1: str | None  # US
    chatgpt_drop_day: str | None  # first US day ChatGPT is not #1
    legacy_format_days: list[str]
    daily: dict[str, dict[str, dict[str, int | None]]]  # country -> day -> provider -> rank (None: not in top 100)


@dataclass(frozen=True)
class TrafficTruth:
    crash_at: str
    anthropic_user_growth_pct_dec_feb: float
    migration_multiplier_48h: float
    traffic_growth_48h_pct: float
    traffic_ratio_vs_trailing_7d_same_hour: float
    anthropic_new_clients_by_day: dict[str, int]
    anthropic_529_model: dict[str, float]
    expected_request_rows: int
    endpoint_capability: dict[str, dict[str, str]]


@dataclass(frozen=True)
class UptimeTruth:
    provider: str
    window_first_day: str
    window_last_day: str
    weights: dict[str, float]
    components: list[str]
    weighted_downtime_minutes: dict[str, float]
    uptime_pct: float
    target_pct: float
    calibration_factor: float


@dataclass(frozen=True)
class Truth:
    version: int
    seed: int
    start: str
    end: str
    scale: float
    # days the world was moved from the canonical March 2026 calendar (every time and day here is already moved);
    # keyword-only so truth files written before it existed still load (as 0)
    shift_days: int = field(default=0, kw_only=True)
    sources: list[str]
    outages: list[OutageTruth]
    incidents: list[IncidentTruth]
    ranks: RankTruth
    traffic: TrafficTruth
    migration_lag_hours: int
    uptime: UptimeTruth
    malformed_rows: dict[str, int]
    malformed_rows_per_file: dict[str, dict[str, int]]
    malformed_records: list[dict]
    rows: dict[str, int]  # records written per source (good + malformed)
    rows_per_file: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n"

    @classmethod
    def from_dict(cls, data: dict) -> Truth:
        data = dict(data)
        data["outages"] = [OutageTruth(**o) for o in data["outages"]]
        data["incidents"] = [IncidentTruth(**i) for i in data["incidents"]]
        data["ranks"] = RankTruth(**data["ranks"])
        data["traffic"] = TrafficTruth(**data["traffic"])
        data["uptime"] = UptimeTruth(**data["uptime"])
        return cls(**data)

    @classmethod
    def load(cls, path: Path) -> Truth:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
