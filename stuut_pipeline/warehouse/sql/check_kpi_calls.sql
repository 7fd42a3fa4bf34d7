-- Reconciliation: calls in workflow_kpis vs rows of `calls`, for one workflow.
-- Parameters: $workflow_id.
SELECT
    (SELECT count(*) FROM calls WHERE workflow_id = $workflow_id) AS source_rows,
    (
        SELECT CAST(coalesce(sum(calls), 0) AS BIGINT)
        FROM workflow_kpis
        WHERE workflow_id = $workflow_id
    ) AS rollup_rows
