-- marts.provider_minute_sli for a set of days: one row per (day, provider, UTC minute).
-- Filled in by sli.minute_sli_sql: `source` is a table/view name from code (never from data) and
-- `day_placeholders` one DATE placeholder per day, so the filter is a constant IN-list that DuckDB pushes
-- down to the Parquet scan (hive partition pruning). The days themselves are bound as parameters.
--
-- Timeout decision: a request is a timeout when its error_type mentions "timeout" (case-insensitive:
-- "timeout", "read_timeout", "connect_timeout", ...) OR its status is 408 / 504. Gateways record a
-- client-side deadline as 408 and an upstream deadline as 504; either way the user got no answer, so
-- both count against the provider. Timeout wins over every status class, which keeps the classes
-- disjoint: a 504 is a timeout (not an errors_5xx), a 408 is a timeout (not an errors_4xx_other).
WITH logs AS (
    SELECT
        day,
        provider,
        date_trunc('minute', ts) AS minute,
        coalesce(status, 0) AS s,
        coalesce(status IN (408, 504), false)
            OR coalesce(error_type ILIKE '%timeout%', false) AS is_timeout,
        latency_ms
    FROM {source}
    WHERE day IN ({day_placeholders})
),
per_minute AS (
    SELECT
        day,
        provider,
        minute,
        count(*) AS requests,
        count(*) FILTER (WHERE NOT is_timeout AND (s BETWEEN 200 AND 399)) AS ok,
        count(*) FILTER (WHERE NOT is_timeout AND (s BETWEEN 500 AND 599 AND s <> 529)) AS errors_5xx,
        count(*) FILTER (WHERE NOT is_timeout AND (s = 529)) AS errors_529,
        count(*) FILTER (WHERE NOT is_timeout AND (s = 429)) AS errors_429,
        count(*) FILTER (WHERE NOT is_timeout AND (s BETWEEN 400 AND 499 AND s <> 429)) AS errors_4xx_other,
        -- no usable status (null, 0, 1xx, >= 600) and not a timeout: not the provider's
        count(*) FILTER (WHERE NOT is_timeout AND (s < 200 OR s > 599)) AS errors_other,
        count(*) FILTER (WHERE is_timeout) AS timeouts,
        quantile_cont(latency_ms, [0.5, 0.95]) AS latency_quantiles
    FROM logs
    GROUP BY day, provider, minute
)
SELECT
    day,
    provider,
    minute,
    requests,
    ok,
    errors_5xx,
    errors_529,
    errors_429,
    errors_4xx_other,
    timeouts,
    errors_other,
    -- the PROVIDER's error ratio: 429 and other 4xx are our own errors
    (errors_5xx + errors_529 + timeouts) / requests AS error_ratio,
    latency_quantiles[1]::DOUBLE AS latency_p50_ms,
    latency_quantiles[2]::DOUBLE AS latency_p95_ms
FROM per_minute
