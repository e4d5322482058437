-- +goose Up
-- Statistics (store/stats.go) read one narrow row per ended call rather
-- than the wide call records: a year of a busy company is millions of
-- calls, and PostgreSQL aggregates a row of integers several times faster
-- than a call record with its text columns. The row is written by the
-- statements that write the call (SaveCall, tagging, assigning,
-- archiving), in their transaction; nothing else writes it.
--
-- Its columns are ordered and typed to keep the row small (no padding,
-- NULL rather than an empty array): a smaller row is a faster scan.
CREATE TABLE call_stats (
    call_id       bigint PRIMARY KEY,
    company_id    bigint NOT NULL,
    started_at    timestamptz NOT NULL,
    number_id     bigint,
    -- who answered an inbound call, who made an outbound one
    user_id       bigint,
    duration      integer NOT NULL, -- seconds, start to end
    wait          integer NOT NULL, -- seconds until answered (or until the end)
    talk          integer NOT NULL, -- seconds answered
    -- Seconds the call stayed in the inbox until first handled (called
    -- back, assigned, archived): a missed call enters it when it ends, an
    -- answered one when first assigned. NULL until then.
    handling      integer,
    -- stats.Reasons: 0 when answered, else the missed-call reason's place
    missed_reason smallint NOT NULL,
    inbound       boolean NOT NULL,
    answered      boolean NOT NULL,
    voicemail     boolean NOT NULL,
    -- answered within the service level in force when it ended (its
    -- number's, else the company's)
    sla_met       boolean NOT NULL,
    teams         bigint[], -- NULL: none
    tags          bigint[], -- NULL: none
    FOREIGN KEY (company_id, call_id) REFERENCES calls (company_id, id) ON DELETE CASCADE
);
CREATE INDEX call_stats_company_started ON call_stats (company_id, started_at);

-- The sums of call_stats by company, UTC hour and direction, in four
-- shards (call_id % 4) so that calls ending at once do not queue on one
-- row: what a query without filters on numbers, users, teams or tags
-- reads (store/stats.go's statsSums says what each call adds).
CREATE TABLE call_stats_hourly (
    company_id   bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
    hour         timestamptz NOT NULL,
    inbound      boolean NOT NULL,
    shard        smallint NOT NULL,
    calls        bigint NOT NULL,
    answered     bigint NOT NULL,
    voicemails   bigint NOT NULL,
    duration     bigint NOT NULL,
    talk         bigint NOT NULL,
    wait         bigint NOT NULL,
    m1           bigint NOT NULL,
    m2           bigint NOT NULL,
    m3           bigint NOT NULL,
    m4           bigint NOT NULL,
    m5           bigint NOT NULL,
    m6           bigint NOT NULL,
    m7           bigint NOT NULL,
    offered      bigint NOT NULL,
    within_sla   bigint NOT NULL,
    handled      bigint NOT NULL,
    handling     bigint NOT NULL,
    longest_wait integer NOT NULL,
    PRIMARY KEY (company_id, hour, inbound, shard)
);

-- A number's own service level threshold (NULL: the company's).
ALTER TABLE numbers ADD COLUMN sla_seconds integer CHECK (sla_seconds BETWEEN 1 AND 3600);

-- An agent's calls that rang and were not answered, by time: per-user
-- productivity reads them without scanning the whole stream.
CREATE INDEX events_agent_missed ON events (company_id, at)
    WHERE event IN ('call.agent_no_answer', 'call.agent_declined');

-- An agent's own events (availability, after-call work, phones) by time:
-- per-user productivity reads a period of them.
CREATE INDEX events_user_at ON events (user_id, at) WHERE call_id IS NULL AND user_id IS NOT NULL;

-- The calls that ended before this migration.
-- (handling as store/stats.go's inboxLateral computes it)
INSERT INTO call_stats (call_id, company_id, started_at, number_id, user_id, duration, wait, talk, handling,
    missed_reason, inbound, answered, voicemail, sla_met, teams, tags)
SELECT c.id, c.company_id, c.started_at, c.number_id, c.user_id,
    greatest(floor(extract(epoch FROM c.ended_at)) - floor(extract(epoch FROM c.started_at)), 0),
    coalesce(c.waiting_time, 0), coalesce(c.talk_time, 0),
    round(extract(epoch FROM h.handled_at - h.inbox_at))::integer,
    coalesce(array_position(ARRAY['out_of_opening_hours', 'short_abandoned', 'abandoned_in_ivr', 'abandoned',
        'no_available_agent', 'agents_did_not_answer', 'blocked'], c.missed_call_reason), 0),
    c.direction = 'inbound', c.answered_at IS NOT NULL, c.voicemail IS NOT NULL,
    c.answered_at IS NOT NULL AND coalesce(c.waiting_time, 0) <= coalesce(
        (SELECT n.sla_seconds FROM numbers n WHERE n.id = c.number_id),
        (SELECT co.sla_seconds FROM companies co WHERE co.id = c.company_id)),
    (SELECT array_agg(t.team_id ORDER BY t.team_id) FROM call_teams t WHERE t.call_id = c.id),
    (SELECT array_agg(t.tag_id ORDER BY t.tag_id) FROM call_tags t WHERE t.call_id = c.id)
FROM calls c, LATERAL (
    SELECT i.at AS inbox_at, (SELECT min(e.at) FROM events e WHERE e.call_id = c.id AND e.at >= i.at
        AND e.event = ANY (CASE WHEN i.missed THEN '{call.called_back,call.assigned,call.archived}'
            ELSE '{call.called_back,call.archived}' END::text[])) AS handled_at
    FROM (SELECT m.missed, CASE WHEN m.missed THEN c.ended_at
            ELSE (SELECT min(e.at) FROM events e WHERE e.call_id = c.id AND e.event = 'call.assigned') END AS at
        FROM (SELECT c.direction = 'inbound' AND c.answered_at IS NULL
            AND coalesce(c.missed_call_reason, '') <> 'blocked' AS missed) m) i) h
WHERE c.status = 'done' AND c.ended_at IS NOT NULL;

INSERT INTO call_stats_hourly
SELECT r.company_id, to_timestamp(floor(extract(epoch FROM r.started_at) / 3600) * 3600), r.inbound, r.call_id % 4,
    count(*), sum(r.answered::int), sum(r.voicemail::int), sum(r.duration), sum(r.talk),
    sum(CASE WHEN r.answered THEN r.wait ELSE 0 END),
    sum((r.missed_reason = 1)::int), sum((r.missed_reason = 2)::int), sum((r.missed_reason = 3)::int),
    sum((r.missed_reason = 4)::int), sum((r.missed_reason = 5)::int), sum((r.missed_reason = 6)::int),
    sum((r.missed_reason = 7)::int),
    sum((r.inbound AND r.missed_reason NOT IN (1, 2, 7))::int),
    sum((r.inbound AND r.missed_reason NOT IN (1, 2, 7) AND r.sla_met)::int),
    count(r.handling), coalesce(sum(r.handling), 0),
    coalesce(max(CASE WHEN r.inbound AND r.missed_reason NOT IN (1, 2, 7) THEN r.wait END), 0)
FROM call_stats r GROUP BY 1, 2, 3, 4;

-- +goose Down
DROP INDEX events_agent_missed, events_user_at;
ALTER TABLE numbers DROP COLUMN sla_seconds;
DROP TABLE call_stats_hourly, call_stats;
