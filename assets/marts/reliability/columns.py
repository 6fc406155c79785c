"""The columns of marts.component_reliability, each with its one-line meaning."""

RELIABILITY_COLUMNS: dict[str, tuple[str, str]] = {
    "provider": ("string", "provider key from providers.yaml"),
    "component": (
        "string",
        "status-page component; '(all)' = incidents naming none; '(provider)' = provider row",
    ),
    "capability": ("string", "capability of the component from providers.yaml (null if unmapped)"),
    "period": ("string", "'all' = the analysed window, else the calendar month 'YYYY-MM' (clipped to it)"),
    "period_start": ("timestamptz", "first instant of the period (UTC)"),
    "period_end": ("timestamptz", "end of the period, exclusive (UTC)"),
    "window_start": ("timestamptz", "first instant of the analysed window this run used (UTC)"),
    "window_end": ("timestamptz", "end of the analysed window this run used, exclusive (UTC)"),
    "evidence_first_at": (
        "timestamptz",
        "start of the provider's status-page evidence: earliest of first snapshot and earliest incident start",
    ),
    "evidence_last_at": ("timestamptz", "end of the provider's status-page evidence: its latest snapshot"),
    "evidence_minutes": ("double", "minutes of the period inside the evidence window (0 = no evidence)"),
    "evidence_state": (
        "string",
        "no_evidence (uptime unknown), no_incidents (covered, nothing wrong: genuinely 100%) or incidents",
    ),
    "incidents": (
        "bigint",
        "incidents that started in the period (maintenance excluded); null without evidence",
    ),
    "resolved_incidents": ("bigint", "of those, incidents with a resolved_at"),
    "mttr_mean_hours": ("double", "mean of resolved_at - started_at over resolved incidents, hours"),
    "mttr_median_hours": ("double", "median time to resolve, hours"),
    "mttr_p90_hours": ("double", "90th percentile time to resolve (linear interpolation), hours"),
    "mtbf_mean_days": (
        "double",
        "mean gap between consecutive incident starts, days (null if < 2 incidents)",
    ),
    "share_resolved_1h": (
        "double",
        "share of the period's incidents resolved within 60 minutes (open = not)",
    ),
    "share_resolved_3h": ("double", "share of the period's incidents resolved within 180 minutes"),
    "incidents_per_30d": ("double", "incidents per 30 days of evidenced time in the period"),
    "counted_minutes": ("double", "evidence_minutes minus maintenance minutes when excluded"),
    "maintenance_minutes": ("double", "minutes whose worst status was under_maintenance"),
    "degraded_minutes": ("double", "minutes whose worst status was degraded_performance"),
    "partial_outage_minutes": ("double", "minutes whose worst status was partial_outage"),
    "major_outage_minutes": ("double", "minutes whose worst status was major_outage"),
    "weighted_down_minutes": (
        "double",
        "major*weight_major + partial*weight_partial + degraded*weight_degraded",
    ),
    "uptime_pct": (
        "double",
        "100 * (1 - weighted_down_minutes / counted_minutes) under the weights below; null without evidence",
    ),
    "uptime_pct_w0": ("double", "uptime with partial outages weighted 0 (major 1.0)"),
    "uptime_pct_w03": ("double", "uptime with partial outages weighted 0.3 (major 1.0)"),
    "uptime_pct_w05": ("double", "uptime with partial outages weighted 0.5 (major 1.0)"),
    "uptime_pct_w1": ("double", "uptime with partial outages weighted 1.0 (major 1.0)"),
    "weight_major": ("double", "weight of a major_outage minute in uptime_pct"),
    "weight_partial": ("double", "weight of a partial_outage minute in uptime_pct"),
    "weight_degraded": ("double", "weight of a degraded_performance minute in uptime_pct"),
    "maintenance_excluded": ("boolean", "whether maintenance minutes are left out of counted_minutes"),
    "ranking_changes_with_policy": (
        "boolean",
        "whether, in this period, two providers swap order by '(provider)' uptime across w0/w03/w05/w1",
    ),
    "uptime_missing_reason": (
        "string",
        "why uptime_pct is null (no evidence, evidence elsewhere); else null",
    ),
}


def _same_as_reliability(*names: str) -> dict[str, tuple[str, str]]:
    return {name: RELIABILITY_COLUMNS[name] for name in names}


DAILY_UPTIME_COLUMNS: dict[str, tuple[str, str]] = {
    **_same_as_reliability("provider", "component", "capability"),
    "day": ("date", "the UTC day"),
    "uptime_pct": (
        "double",
        "100 * (1 - weighted_down_minutes / counted_minutes) as in component_reliability; null without evidence",
    ),
    "worst_status": (
        "string",
        "worst status that day (major_outage ... under_maintenance, operational); null without evidence",
    ),
    "evidence_state": (
        "string",
        "no_evidence (unknown), no_incidents (covered, all operational) or incidents",
    ),
    "evidence_minutes": ("double", "minutes of the day inside the provider's status-page evidence window"),
    **_same_as_reliability(
        "counted_minutes",
        "maintenance_minutes",
        "degraded_minutes",
        "partial_outage_minutes",
        "major_outage_minutes",
        "weighted_down_minutes",
    ),
    "incidents": ("bigint", "incidents that started that day (maintenance excluded); null without evidence"),
    **_same_as_reliability("window_start", "window_end"),
}
