-- Sum of share_of_calls per (day, direction) group of one workflow (each must be 1).
-- Parameters: $workflow_id.
SELECT
    CAST(day AS VARCHAR) || ' ' || coalesce(direction, '(null)') AS grp,
    sum(calls) AS calls,
    sum(share_of_calls) AS share_sum
FROM sentiment_rollup
WHERE workflow_id = $workflow_id
GROUP BY day, direction
ORDER BY day NULLS LAST, direction NULLS LAST
