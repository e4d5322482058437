-- +goose Up
-- Secrets every switchboard process on this database shares, each made
-- on first use (store/secrets.go): the key that signs the links to calls'
-- recordings and voicemails must survive restarts and be the same for a
-- standby as for the primary. Deleting a row rotates that secret at the
-- next start of every process (the links given until then die).
CREATE TABLE secrets (
    name       text PRIMARY KEY,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE secrets;
