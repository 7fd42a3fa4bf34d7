-- sentiment_rollup: one workflow's calls per UTC day, direction and sentiment.
-- Parameters: $workflow_id, $sentiments (the documented values, zero-filled in every group).
WITH f AS (
    SELECT * FROM call_facts WHERE workflow_id = $workflow_id
),

groups AS (
    SELECT DISTINCT call_date, direction FROM f
),

keys AS (
    SELECT g.call_date, g.direction, s.sentiment
    FROM groups AS g
    CROSS JOIN (SELECT unnest(CAST($sentiments AS VARCHAR[])) AS sentiment) AS s
    UNION
    SELECT DISTINCT call_date, direction, sentiment FROM f
)

SELECT
    CAST($workflow_id AS VARCHAR) AS workflow_id,
    k.call_date AS day,
    k.direction,
    k.sentiment,
    coalesce(
        list_contains(CAST($sentiments AS VARCHAR[]), k.sentiment), false
    ) AS is_documented_sentiment,
    count(f.call_id) AS calls,
    count(f.call_id)
    / sum(count(f.call_id)) OVER (PARTITION BY k.call_date, k.direction) AS share_of_calls,
    count(*) FILTER (WHERE f.is_voicemail) AS voicemail_calls,
    count(*) FILTER (WHERE f.is_voicemail) / nullif(count(f.call_id), 0) AS voicemail_rate,
    avg(f.duration_seconds) AS mean_duration_seconds,
    median(f.duration_seconds) AS median_duration_seconds
FROM keys AS k
LEFT JOIN f
    ON
        f.call_date IS NOT DISTINCT FROM k.call_date
        AND f.direction IS NOT DISTINCT FROM k.direction
        AND f.sentiment IS NOT DISTINCT FROM k.sentiment
GROUP BY k.call_date, k.direction, k.sentiment
