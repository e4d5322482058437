-- +goose Up
-- The dispatcher reads the outbox every few hundred milliseconds instead
-- of being notified: a NOTIFY serialises the commits of every
-- transaction that sends one, and made SaveCall a sixth slower with
-- calls in parallel; a read of an empty outbox costs next to nothing.
DROP TRIGGER webhook_deliveries_notify ON webhook_deliveries;
DROP FUNCTION webhook_deliveries_notify();

-- +goose Down
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
