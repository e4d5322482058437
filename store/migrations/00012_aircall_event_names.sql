-- +goose Up
-- Holding a caller is `call.hold` and `call.unhold` in Aircall's words,
-- as its webhooks name them: the events written before take those names.
UPDATE events SET event = 'call.hold' WHERE event = 'call.held';
UPDATE events SET event = 'call.unhold' WHERE event = 'call.unheld';

-- +goose Down
UPDATE events SET event = 'call.held' WHERE event = 'call.hold';
UPDATE events SET event = 'call.unheld' WHERE event = 'call.unhold';
