-- Weeks of one workflow where a count exceeds its denominator or a rate leaves [0, 1].
-- Parameters: $workflow_id.
SELECT iso_week
FROM workflow_kpis
WHERE
    workflow_id = $workflow_id
    AND NOT (
        connected_calls <= calls
        AND voicemail_calls <= calls
        AND right_party_contacts <= connected_calls
        AND promise_to_pay_calls <= right_party_contacts
        AND dispute_complaint_calls <= calls
        AND coalesce(connect_rate BETWEEN 0 AND 1, true)
        AND coalesce(voicemail_rate BETWEEN 0 AND 1, true)
        AND coalesce(right_party_contact_rate BETWEEN 0 AND 1, true)
        AND coalesce(promise_to_pay_rate BETWEEN 0 AND 1, true)
        AND coalesce(dispute_complaint_share BETWEEN 0 AND 1, true)
    )
ORDER BY week_start
