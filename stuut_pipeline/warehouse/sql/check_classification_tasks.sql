-- Reconciliation: tasks in classification_rollup vs rows of `call_tasks`, for one workflow.
-- Parameters: $workflow_id.
SELECT
    (SELECT count(*) FROM call_tasks WHERE workflow_id = $workflow_id) AS source_rows,
    (
        SELECT CAST(coalesce(sum(tasks), 0) AS BIGINT)
        FROM classification_rollup
        WHERE workflow_id = $workflow_id
    ) AS rollup_rows
