-- +goose Up
-- The stream's readers (the live view) follow it by transaction, not by
-- id alone: ids are taken when rows are inserted, so a transaction may
-- commit an id lower than one a reader already saw. Every event carries
-- the id of the transaction that wrote it; the rows of transactions older
-- than every running one (pg_snapshot_xmin) form a prefix of the stream
-- in (xid, id) order that no later commit can change, and a reader keeps
-- its place there (store/live.go). The rows written before this
-- migration all get its own transaction's id: they stay in id order.
ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX events_xid ON events (xid, id);

-- +goose Down
DROP INDEX events_xid;
ALTER TABLE events DROP COLUMN xid;
