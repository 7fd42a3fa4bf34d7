-- Reconciliation: calls per sentiment in sentiment_rollup vs rows of `calls`, for one workflow.
-- Parameters: $workflow_id.
WITH source AS (
    SELECT sentiment, count(*) AS calls
    FROM calls
    WHERE workflow_id = $workflow_id
    GROUP BY sentiment
),

rolled AS (
    SELECT sentiment, sum(calls) AS calls
    FROM sentiment_rollup
    WHERE workflow_id = $workflow_id
    GROUP BY sentiment
)

SELECT
    coalesce(s.sentiment, r.sentiment) AS value,
    CAST(coalesce(s.calls, 0) AS BIGINT) AS source_rows,
    CAST(coalesce(r.calls, 0) AS BIGINT) AS rollup_rows
FROM source AS s
FULL OUTER JOIN rolled AS r ON s.sentiment IS NOT DISTINCT FROM r.sentiment
ORDER BY value NULLS LAST
