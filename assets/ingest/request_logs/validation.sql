-- The final typed columns, the row's UTC `day` and `reason`: NULL when the row is accepted, else its first problem.
-- A str.format template: its fields (in braces) are filled only with code (the typed source query,
-- the missing-field checks, reason wording) or parameter placeholders ($p0, ...), never with data.
SELECT file, record_no, ts, ts::DATE AS day, provider, model_text AS model, endpoint_text AS endpoint, status, latency_ms,
       tokens_in, tokens_out, client_id_text AS client_id, region_text AS region, error_type_text AS error_type,
       reason, CASE WHEN reason IS NOT NULL THEN left(strip_eol(line), {raw_preview_chars}) END AS raw
FROM (
    SELECT *, CASE
        WHEN bad_utf8 THEN 'line: bytes are not valid UTF-8'
        WHEN line_bytes > {max_line_bytes}
            THEN 'line: ' || line_bytes || ' bytes is longer than the limit of ' || {max_line_bytes} || ' bytes'
        WHEN structure_error IS NOT NULL THEN structure_error
        {missing_checks}
        WHEN ts IS NULL THEN 'ts: ' || q(ts_text) || ' is not a timestamp with a UTC offset ({ts_hint})'
        WHEN ts < {earliest_start}
            THEN 'ts: ' || iso(ts) || ' is before ' || {earliest} || ', the first day the pipeline keeps'
        WHEN ts > {now} THEN 'ts: ' || iso(ts) || ' is in the future'
        WHEN status IS NULL
            THEN 'status: ' || q(coalesce(status_text, status_num::VARCHAR)) || ' is not an integer HTTP code in 100-599'
        WHEN latency_ms_num IS NULL AND latency_ms_text IS NOT NULL OR NOT isfinite(latency_ms_num)
            THEN '{latency_field}: ' || q(coalesce(latency_ms_text, latency_ms_num::VARCHAR)) || ' is not a number'
        WHEN latency_ms < 0
            THEN '{latency_field}: ' || q(coalesce(latency_ms_text, latency_ms_num::VARCHAR)) || ' is negative'
        WHEN tokens_in_num IS NOT NULL AND tokens_in IS NULL OR tokens_in_num IS NULL AND tokens_in_text IS NOT NULL
            THEN 'tokens_in: ' || q(coalesce(tokens_in_text, tokens_in_num::VARCHAR)) || ' is not a whole number'
        WHEN tokens_in < 0 THEN 'tokens_in: ' || tokens_in || ' is negative'
        WHEN tokens_out_num IS NOT NULL AND tokens_out IS NULL OR tokens_out_num IS NULL AND tokens_out_text IS NOT NULL
            THEN 'tokens_out: ' || q(coalesce(tokens_out_text, tokens_out_num::VARCHAR)) || ' is not a whole number'
        WHEN tokens_out < 0 THEN 'tokens_out: ' || tokens_out || ' is negative'
        WHEN provider IS NULL THEN {provider_reason}
    END AS reason
    FROM (
        SELECT *,
            CASE WHEN status_num BETWEEN 100 AND 599 AND status_num = floor(status_num)
                 THEN status_num::INTEGER END AS status,
            CASE WHEN isfinite(latency_ms_num) THEN latency_ms_num END AS latency_ms,
            whole(tokens_in_num) AS tokens_in,
            whole(tokens_out_num) AS tokens_out
        FROM ({typed})
    )
)
