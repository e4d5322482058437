-- +goose Up
-- A prefix a user dials before a number (after a star) to call out with
-- this number rather than their default one: *81 0612345678.
ALTER TABLE numbers ADD COLUMN outbound_prefix text NOT NULL DEFAULT ''
    CHECK (outbound_prefix ~ '^[0-9]{0,4}$');
CREATE UNIQUE INDEX numbers_outbound_prefix_key ON numbers (company_id, outbound_prefix) WHERE outbound_prefix <> '';

-- +goose Down
DROP INDEX numbers_outbound_prefix_key;
ALTER TABLE numbers DROP COLUMN outbound_prefix;
