-- classification_rollup: one workflow's classifications per classification value.
-- Parameters: $workflow_id, $classifications (the documented values, zero-filled).
WITH workflow_calls AS (
    SELECT count(*) AS calls FROM calls WHERE workflow_id = $workflow_id
),

task_counts AS (
    -- completed: status completed, or the task's action was taken (action_taken = complete);
    -- open: status open and not completed. Other statuses (closed, ...) count only in `tasks`.
    SELECT
        call_id,
        classification_index,
        count(*) AS tasks,
        count(*) FILTER (
            WHERE status = 'open' AND NOT coalesce(action_taken = 'complete', false)
        ) AS tasks_open,
        count(*) FILTER (
            WHERE status = 'completed' OR action_taken = 'complete'
        ) AS tasks_completed
    FROM call_tasks
    WHERE workflow_id = $workflow_id
    GROUP BY call_id, classification_index
),

per_value AS (
    SELECT
        c.classification,
        count(*) AS classifications,
        count(DISTINCT c.call_id) AS calls,
        count(*) FILTER (WHERE c.is_action_required) AS action_required,
        count(*) FILTER (WHERE c.is_reply_required) AS reply_required,
        avg(c.agent_confidence_score) AS mean_agent_confidence,
        coalesce(sum(t.tasks), 0) AS tasks,
        coalesce(sum(t.tasks_open), 0) AS tasks_open,
        coalesce(sum(t.tasks_completed), 0) AS tasks_completed
    FROM call_classifications AS c
    LEFT JOIN task_counts AS t
        ON t.call_id = c.call_id AND t.classification_index = c.classification_index
    WHERE c.workflow_id = $workflow_id
    GROUP BY c.classification
),

keys AS (
    SELECT unnest(CAST($classifications AS VARCHAR[])) AS classification
    UNION
    SELECT classification FROM per_value
)

SELECT
    CAST($workflow_id AS VARCHAR) AS workflow_id,
    k.classification,
    coalesce(
        list_contains(CAST($classifications AS VARCHAR[]), k.classification), false
    ) AS is_documented_classification,
    coalesce(p.classifications, 0) AS classifications,
    coalesce(p.calls, 0) AS calls,
    coalesce(p.calls, 0) / nullif(w.calls, 0) AS share_of_calls,
    coalesce(p.classifications, 0)
    / nullif(sum(coalesce(p.classifications, 0)) OVER (), 0) AS share_of_classifications,
    coalesce(p.action_required, 0) AS action_required,
    p.action_required / nullif(p.classifications, 0) AS action_required_rate,
    coalesce(p.reply_required, 0) AS reply_required,
    p.reply_required / nullif(p.classifications, 0) AS reply_required_rate,
    p.mean_agent_confidence,
    coalesce(p.tasks, 0) AS tasks,
    coalesce(p.tasks_open, 0) AS tasks_open,
    coalesce(p.tasks_completed, 0) AS tasks_completed
FROM keys AS k
LEFT JOIN per_value AS p ON p.classification IS NOT DISTINCT FROM k.classification
CROSS JOIN workflow_calls AS w
