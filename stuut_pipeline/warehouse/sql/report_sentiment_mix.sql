-- Sentiment mix of one workflow per UTC day, all directions together (for the chart).
-- Parameters: $workflow_id.
SELECT
    day,
    sentiment,
    sum(calls) AS calls,
    sum(calls) / nullif(sum(sum(calls)) OVER (PARTITION BY day), 0) AS share
FROM sentiment_rollup
WHERE workflow_id = $workflow_id
GROUP BY day, sentiment
ORDER BY day NULLS LAST, sentiment NULLS LAST
