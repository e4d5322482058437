-- +goose Up
-- The outbound policy, against toll fraud (dialplan.OutboundPolicy): the
-- countries agents may call, NULL meaning the company's own country (the
-- rows that predate the policy), and whether they may call premium-rate
-- numbers.
ALTER TABLE companies
    ADD COLUMN outbound_countries text[],
    ADD COLUMN allow_premium_rate boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE companies
    DROP COLUMN outbound_countries,
    DROP COLUMN allow_premium_rate;
