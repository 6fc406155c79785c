"""The columns of marts.incidents, each with its one-line meaning."""

# One-line meaning of every column of marts.incidents (also attached as the Dagster column schema).
INCIDENT_COLUMNS: dict[str, tuple[str, str]] = {
    "provider": ("string", "provider key from providers.yaml"),
    "incident_id": ("string", "the status page's own incident id"),
    "title": ("string", "incident title as published"),
    "impact": (
        "string",
        "none/minor/major/critical/maintenance as published, else inferred from words (impact_inferred)",
    ),
    "status": ("string", "latest incident status (investigating ... resolved, postmortem)"),
    "page_kind": ("string", "status page flavour: statuspage, incident_io, atom or rss"),
    "started_at": ("timestamptz", "impact start: stated window if a body gives one, else vendor_started_at"),
    "acknowledged_at": ("timestamptz", "first public update (any status)"),
    "identified_at": ("timestamptz", "first 'identified' update"),
    "monitoring_at": (
        "timestamptz",
        "first 'monitoring'/'verifying' update, else the incident's monitoring_at",
    ),
    "resolved_at": (
        "timestamptz",
        "impact end: stated window end if given, else vendor_resolved_at; null if open",
    ),
    "postmortem_at": ("timestamptz", "first 'postmortem' update"),
    "duration_minutes": ("double", "resolved_at - started_at in minutes (null while unresolved)"),
    "components": (
        "list<string>",
        "affected component names as listed, else configured names found in the title/updates; may be empty",
    ),
    "capabilities": (
        "list<string>",
        "capabilities of those components from providers.yaml (unmapped names skipped)",
    ),
    "components_inferred": (
        "boolean",
        "components were read from the incident's text, not listed by the source",
    ),
    "impact_inferred": ("boolean", "impact was read from the incident's status words, not published"),
    "time_to_acknowledge": ("double", "minutes from started_at to the first update"),
    "time_to_identify": (
        "double",
        "minutes from the first investigating update (else first update) to identified",
    ),
    "time_to_repair": ("double", "minutes from identified to monitoring"),
    "time_to_verify": ("double", "minutes from monitoring to the vendor's resolution (vendor_resolved_at)"),
    "time_to_postmortem": ("double", "minutes from the vendor's resolution to the postmortem update"),
    "posted_after_the_fact": ("boolean", "first post was already a resolution, or came at/after resolved_at"),
    "stated_window": ("boolean", "an update body stated the impact window and it set started_at/resolved_at"),
    "vendor_started_at": ("timestamptz", "incident started_at, else first update, else created_at"),
    "vendor_resolved_at": ("timestamptz", "first resolved/completed update, else the incident's resolved_at"),
    "update_count": ("bigint", "number of published updates"),
    "last_seen_at": (
        "timestamptz",
        "newest snapshot/updated_at/update showing the incident (open = ongoing till then)",
    ),
    "shortlink": ("string", "vendor short link (null on incident.io and feeds)"),
}
