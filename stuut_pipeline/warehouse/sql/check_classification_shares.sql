-- Sum of share_of_classifications over one workflow (must be 1 when it has classifications).
-- Parameters: $workflow_id.
SELECT
    'all classifications' AS grp,
    sum(classifications) AS calls,
    sum(share_of_classifications) AS share_sum
FROM classification_rollup
WHERE workflow_id = $workflow_id
