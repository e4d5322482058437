-- +goose Up
-- The calls of one phone number (GET /v1/calls/search?phone_number=,
-- and ?email= through the contact's numbers): what a CRM asks of every
-- customer it shows.
CREATE INDEX calls_by_phone ON calls (company_id, raw_digits, started_at);

-- +goose Down
DROP INDEX calls_by_phone;
