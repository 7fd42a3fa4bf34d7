-- Reconciliation: classifications per value in classification_rollup vs rows of
-- `call_classifications`, for one workflow. Parameters: $workflow_id.
WITH source AS (
    SELECT classification, count(*) AS classifications
    FROM call_classifications
    WHERE workflow_id = $workflow_id
    GROUP BY classification
),

rolled AS (
    SELECT classification, sum(classifications) AS classifications
    FROM classification_rollup
    WHERE workflow_id = $workflow_id
    GROUP BY classification
)

SELECT
    coalesce(s.classification, r.classification) AS value,
    CAST(coalesce(s.classifications, 0) AS BIGINT) AS source_rows,
    CAST(coalesce(r.classifications, 0) AS BIGINT) AS rollup_rows
FROM source AS s
FULL OUTER JOIN rolled AS r ON s.classification IS NOT DISTINCT FROM r.classification
ORDER BY value NULLS LAST
