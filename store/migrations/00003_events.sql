-- +goose Up
-- The one stream (package events): every event of a call (its timeline),
-- of an agent and of the configuration, in one table. A call's timeline
-- is the stream read by call.
ALTER TABLE call_events RENAME TO events;
ALTER SEQUENCE call_events_id_seq RENAME TO events_id_seq;
ALTER INDEX call_events_pkey RENAME TO events_pkey;
ALTER INDEX call_events_call RENAME TO events_call;
ALTER TABLE events ALTER COLUMN call_id DROP NOT NULL;
-- user_id: the user an event is about (user.*), or who did it (the agent
-- rung, who tagged); number_id: the number it is about (number.*). No
-- foreign key on them: the events of a deleted user or number stay.
ALTER TABLE events ADD COLUMN number_id bigint;
CREATE INDEX events_company ON events (company_id, id);
-- The last opening or closing of each number (number.opened/closed are
-- fired by their business hours turning, and again after a restart only
-- if they turned meanwhile).
CREATE INDEX events_number ON events (number_id, id) WHERE number_id IS NOT NULL;
CREATE INDEX events_user ON events (user_id, id) WHERE call_id IS NULL AND user_id IS NOT NULL;

-- Webhooks: their delivery state. A failing webhook waits until
-- retry_at (exponential backoff with jitter); failing every attempt since
-- failing_since for 24 hours, or answered 410 Gone, it is deactivated and
-- says why.
ALTER TABLE webhooks
    ADD COLUMN failures           integer NOT NULL DEFAULT 0,
    ADD COLUMN failing_since      timestamptz,
    ADD COLUMN retry_at           timestamptz,
    ADD COLUMN deactivated_reason text,
    ADD COLUMN deactivated_at     timestamptz;

-- The outbox: one row per event and webhook subscribed to its kind,
-- written in the same statement as the event. Delivered in order per
-- webhook and order_key (the call, user or number the event is about):
-- the pending row of a key with the smallest event id goes first. body is
-- the request's body, made at the first attempt and sent again as it is.
DROP TABLE webhook_deliveries;
CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    delivery_id      uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    company_id       bigint NOT NULL,
    webhook_id       bigint NOT NULL,
    event_id         bigint NOT NULL REFERENCES events ON DELETE CASCADE,
    order_key        text NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    last_status_code integer,
    last_error       text,
    last_attempt_at  timestamptz,
    body             bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    FOREIGN KEY (company_id, webhook_id) REFERENCES webhooks (company_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (webhook_id, order_key, event_id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_done ON webhook_deliveries (delivered_at) WHERE status = 'delivered';

-- A new delivery wakes the dispatcher (LISTEN webhook_deliveries); the
-- notifications of one transaction are delivered once, at its commit.
-- +goose StatementBegin
CREATE FUNCTION webhook_deliveries_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('webhook_deliveries', '');
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER webhook_deliveries_notify AFTER INSERT ON webhook_deliveries
    FOR EACH ROW EXECUTE FUNCTION webhook_deliveries_notify();

-- +goose Down
DROP TRIGGER webhook_deliveries_notify ON webhook_deliveries;
DROP FUNCTION webhook_deliveries_notify();
DROP TABLE webhook_deliveries;
CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    company_id       bigint NOT NULL,
    webhook_id       bigint NOT NULL,
    event            text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    last_status_code integer,
    last_error       text,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    FOREIGN KEY (company_id, webhook_id) REFERENCES webhooks (company_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
ALTER TABLE webhooks DROP COLUMN failures, DROP COLUMN failing_since, DROP COLUMN retry_at,
    DROP COLUMN deactivated_reason, DROP COLUMN deactivated_at;
DROP INDEX events_user, events_number, events_company;
DELETE FROM events WHERE call_id IS NULL;
ALTER TABLE events DROP COLUMN number_id;
ALTER TABLE events ALTER COLUMN call_id SET NOT NULL;
ALTER INDEX events_call RENAME TO call_events_call;
ALTER INDEX events_pkey RENAME TO call_events_pkey;
ALTER SEQUENCE events_id_seq RENAME TO call_events_id_seq;
ALTER TABLE events RENAME TO call_events;
