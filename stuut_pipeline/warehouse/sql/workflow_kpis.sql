-- workflow_kpis: one workflow's AR KPIs per ISO week (Monday, UTC).
-- The per-call flags are defined once in call_facts; this file only counts and divides them.
-- Parameters: $workflow_id.
WITH f AS (
    SELECT * FROM call_facts WHERE workflow_id = $workflow_id
),

weekly AS (
    SELECT
        week_start,
        count(*) AS calls,
        count(*) FILTER (WHERE is_connected) AS connected_calls,
        count(*) FILTER (WHERE disconnection_reason IS NULL) AS calls_unknown_disconnection,
        count(*) FILTER (WHERE is_voicemail) AS voicemail_calls,
        count(*) FILTER (WHERE is_right_party_contact) AS right_party_contacts,
        count(*) FILTER (WHERE is_promise_to_pay) AS promise_to_pay_calls,
        count(*) FILTER (WHERE is_dispute_or_complaint) AS dispute_complaint_calls
    FROM f
    GROUP BY week_start
),

invoice_mentions AS (
    -- every (week, invoice) once: its row on the latest call of that week that attached it.
    SELECT
        f.week_start,
        i.invoice_id,
        coalesce(i.currency, 'XXX') AS currency,
        i.amount_due,
        row_number() OVER (
            PARTITION BY f.week_start, i.invoice_id
            ORDER BY f.call_time DESC NULLS LAST, f.call_id DESC, i.invoice_index DESC
        ) AS recency
    FROM call_invoices AS i
    INNER JOIN f ON f.workflow_id = i.workflow_id AND f.call_id = i.call_id
    WHERE i.workflow_id = $workflow_id AND i.invoice_id IS NOT NULL
),

by_currency AS (
    SELECT
        week_start,
        currency,
        count(*) AS invoices,
        sum(amount_due) AS amount_due
    FROM invoice_mentions
    WHERE recency = 1
    GROUP BY week_start, currency
),

money AS (
    SELECT
        week_start,
        sum(invoices) AS invoices_discussed,
        map_from_entries(
            list(struct_pack(k := currency, v := amount_due) ORDER BY currency)
        ) AS amount_due_by_currency
    FROM by_currency
    GROUP BY week_start
)

SELECT
    CAST($workflow_id AS VARCHAR) AS workflow_id,
    w.week_start,
    strftime(w.week_start, '%G-W%V') AS iso_week,
    w.calls,
    w.connected_calls,
    w.calls_unknown_disconnection,
    w.connected_calls / w.calls AS connect_rate,
    w.voicemail_calls,
    w.voicemail_calls / w.calls AS voicemail_rate,
    w.right_party_contacts,
    w.right_party_contacts / w.calls AS right_party_contact_rate,
    w.promise_to_pay_calls,
    w.promise_to_pay_calls / nullif(w.right_party_contacts, 0) AS promise_to_pay_rate,
    w.dispute_complaint_calls,
    w.dispute_complaint_calls / w.calls AS dispute_complaint_share,
    coalesce(m.invoices_discussed, 0) AS invoices_discussed,
    coalesce(
        m.amount_due_by_currency, CAST(MAP {} AS MAP(VARCHAR, DECIMAL(38, 6)))
    ) AS amount_due_by_currency
FROM weekly AS w
LEFT JOIN money AS m ON m.week_start IS NOT DISTINCT FROM w.week_start
