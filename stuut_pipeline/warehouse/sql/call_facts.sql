-- call_facts: one row per call with the per-call flags every rollup and KPI counts.
-- Each KPI is defined here, once; the rollup queries only count and divide these flags.
-- Times are UTC whatever the session time zone: timezone('UTC', <timestamptz>) is the UTC
-- wall-clock time, and weeks are ISO weeks starting on Monday.
CREATE OR REPLACE VIEW call_facts AS
WITH classification_flags AS (
    SELECT
        workflow_id,
        call_id,
        coalesce(bool_or(classification = 'payment_promise'), false) AS has_payment_promise,
        coalesce(bool_or(classification = 'complaint'), false) AS has_complaint,
        coalesce(
            bool_or(classification IN ('wrong_contact', 'not_available')), false
        ) AS has_wrong_party
    FROM call_classifications
    GROUP BY workflow_id, call_id
),

invoice_flags AS (
    SELECT
        workflow_id,
        call_id,
        coalesce(bool_or(in_dispute), false) AS has_disputed_invoice
    FROM call_invoices
    GROUP BY workflow_id, call_id
),

calls_with_flags AS (
    SELECT
        c.workflow_id,
        c.call_id,
        c.direction,
        c.sentiment,
        c.duration_seconds,
        c.disconnection_reason,
        coalesce(c.start_time, c.created_at) AS call_time,
        -- voicemail: the flag, or a reason saying a voicemail box / answering machine answered.
        (
            coalesce(c.in_voicemail, false)
            OR coalesce(c.disconnection_reason IN ('voicemail_reached', 'machine_detected'), false)
        ) AS is_voicemail,
        coalesce(cf.has_payment_promise, false) AS has_payment_promise,
        coalesce(cf.has_complaint, false) AS has_complaint,
        coalesce(cf.has_wrong_party, false) AS has_wrong_party,
        coalesce(inv.has_disputed_invoice, false) AS has_disputed_invoice
    FROM calls AS c
    LEFT JOIN classification_flags AS cf
        ON cf.workflow_id = c.workflow_id AND cf.call_id = c.call_id
    LEFT JOIN invoice_flags AS inv
        ON inv.workflow_id = c.workflow_id AND inv.call_id = c.call_id
),

connection AS (
    SELECT
        *,
        -- connected: someone (or a voicemail box) picked up. Never connected: Retell's dial_*
        -- reasons, a wrong number, a declined or spam-blocked call, a web call never joined,
        -- a call Retell refused to place, and platform errors (error_*: no usable audio path).
        -- A null reason is unknown and counts as NOT connected (unless voicemail); the KPI
        -- table counts those calls in `calls_unknown_disconnection`. Any other (new) reason
        -- ends a call after pick-up, so it counts as connected.
        CASE
            WHEN is_voicemail THEN true
            WHEN disconnection_reason IS NULL THEN false
            WHEN disconnection_reason LIKE 'dial\_%' ESCAPE '\' THEN false
            WHEN disconnection_reason LIKE 'error\_%' ESCAPE '\' THEN false
            WHEN disconnection_reason IN (
                'invalid_destination',
                'user_declined',
                'marked_as_spam',
                'registered_call_timeout',
                'concurrency_limit_reached',
                'no_valid_payment'
            ) THEN false
            ELSE true
        END AS is_connected
    FROM calls_with_flags
)

SELECT
    workflow_id,
    call_id,
    direction,
    sentiment,
    duration_seconds,
    disconnection_reason,
    call_time,
    CAST(timezone('UTC', call_time) AS DATE) AS call_date,
    CAST(date_trunc('week', timezone('UTC', call_time)) AS DATE) AS week_start,
    is_voicemail,
    is_connected,
    -- right-party contact: a person answered and was the one we wanted to reach.
    is_connected AND NOT is_voicemail AND NOT has_wrong_party AS is_right_party_contact,
    -- promise to pay: a right-party contact that produced a payment_promise classification.
    is_connected AND NOT is_voicemail AND NOT has_wrong_party AND has_payment_promise
        AS is_promise_to_pay,
    -- dispute or complaint: a complaint classification, or an attached invoice in dispute.
    has_complaint OR has_disputed_invoice AS is_dispute_or_complaint,
    has_payment_promise,
    has_complaint,
    has_wrong_party,
    has_disputed_invoice
FROM connection
