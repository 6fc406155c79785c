CREATE OR REPLACE MACRO q(x) AS '''' || left(x, 80) || (CASE WHEN length(x) > 80 THEN '...''' ELSE '''' END);
CREATE OR REPLACE MACRO iso(t) AS strftime(t, '%Y-%m-%dT%H:%M:%SZ');
CREATE OR REPLACE MACRO strip_eol(x) AS replace(replace(x, chr(10), ''), chr(13), '');
CREATE OR REPLACE MACRO whole(x) AS CASE WHEN x = floor(x) AND abs(x) < 9e18 THEN x::BIGINT END;
