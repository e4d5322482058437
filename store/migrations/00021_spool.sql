-- +goose Up
-- The last save each spool wrote back (store.SpooledLog): a save replayed
-- twice, after a crash, is written once.
CREATE TABLE spool_applied (
    node text PRIMARY KEY,
    seq  bigint NOT NULL
);

-- +goose Down
DROP TABLE spool_applied;
