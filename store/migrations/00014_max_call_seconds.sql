-- +goose Up
-- Every call of a number ends at the latest this long after it began
-- (dialplan.MaxCallDuration by default: four hours).
ALTER TABLE numbers ADD COLUMN max_call_seconds integer NOT NULL DEFAULT 14400
    CHECK (max_call_seconds BETWEEN 60 AND 86400);

-- +goose Down
ALTER TABLE numbers DROP COLUMN max_call_seconds;
