-- +goose Up
-- A call abandoned outside the IVR before any agent rang is, in Aircall's
-- words, `abandoned_in_classic`: a client that follows Aircall's enum of
-- missed_call_reason must be able to read every value but our own
-- extension, `blocked`. call_stats keeps the reason's position in
-- stats.Reasons, which does not change.
ALTER TABLE calls DROP CONSTRAINT calls_missed_call_reason_check;
UPDATE calls SET missed_call_reason = 'abandoned_in_classic' WHERE missed_call_reason = 'abandoned';
ALTER TABLE calls ADD CONSTRAINT calls_missed_call_reason_check CHECK (missed_call_reason IN ('out_of_opening_hours',
    'short_abandoned', 'abandoned_in_ivr', 'abandoned_in_classic', 'no_available_agent', 'agents_did_not_answer', 'blocked'));

-- +goose Down
ALTER TABLE calls DROP CONSTRAINT calls_missed_call_reason_check;
UPDATE calls SET missed_call_reason = 'abandoned' WHERE missed_call_reason = 'abandoned_in_classic';
ALTER TABLE calls ADD CONSTRAINT calls_missed_call_reason_check CHECK (missed_call_reason IN ('out_of_opening_hours',
    'short_abandoned', 'abandoned_in_ivr', 'abandoned', 'no_available_agent', 'agents_did_not_answer', 'blocked'));
