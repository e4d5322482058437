-- +goose Up
-- Call records as the engine writes them (store/calls.go) and the calls API
-- reads them.

-- The media server's own names of the call's recording and voicemail files,
-- which the driver fetches back; the *_media_id columns stay for when they
-- are copied into the media table.
ALTER TABLE calls ADD COLUMN recording text, ADD COLUMN voicemail text;

-- The teams a call went through, in the order the engine gives them.
ALTER TABLE call_teams ADD COLUMN position integer NOT NULL DEFAULT 0;

-- Lists and searches: by start time, for a number, for a user (the one who
-- answered, or the one the call is assigned to: what an agent may see).
CREATE INDEX calls_company_number_started ON calls (company_id, number_id, started_at) WHERE number_id IS NOT NULL;
CREATE INDEX calls_company_user_started ON calls (company_id, user_id, started_at) WHERE user_id IS NOT NULL;
CREATE INDEX calls_company_assigned_started ON calls (company_id, assigned_to, started_at) WHERE assigned_to IS NOT NULL;

-- A call's children, read by call (and deleted with it).
CREATE INDEX call_comments_call ON call_comments (call_id, id);
CREATE INDEX inbox_tasks_call ON inbox_tasks (call_id);
CREATE INDEX call_teams_team ON call_teams (team_id);
CREATE INDEX call_tags_tag ON call_tags (tag_id);

-- +goose Down
DROP INDEX call_tags_tag, call_teams_team, inbox_tasks_call, call_comments_call,
    calls_company_assigned_started, calls_company_user_started, calls_company_number_started;
ALTER TABLE call_teams DROP COLUMN position;
ALTER TABLE calls DROP COLUMN voicemail, DROP COLUMN recording;
