-- Sentiment mix of one workflow over all its calls (headline figures).
-- Parameters: $workflow_id.
SELECT
    sentiment,
    sum(calls) AS calls,
    sum(calls) / nullif(sum(sum(calls)) OVER (), 0) AS share
FROM sentiment_rollup
WHERE workflow_id = $workflow_id
GROUP BY sentiment
ORDER BY sentiment NULLS LAST
