-- +goose Up
-- The whole data model of PRODUCT.md. Every row carries its company, and
-- every child row's foreign key includes the company, so that a row can
-- never point into another company.

CREATE TABLE companies (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    time_zone   text NOT NULL,
    language    text NOT NULL,
    country     text NOT NULL,
    sla_seconds integer NOT NULL DEFAULT 20 CHECK (sla_seconds BETWEEN 1 AND 3600),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id                  bigserial PRIMARY KEY,
    company_id          bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
    first_name          text NOT NULL,
    last_name           text NOT NULL DEFAULT '',
    email               text NOT NULL,
    role                text NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
    owner               boolean NOT NULL DEFAULT false,
    language            text NOT NULL,
    time_zone           text NOT NULL,
    extension           text NOT NULL,
    availability_status text NOT NULL DEFAULT 'available'
                        CHECK (availability_status IN ('available', 'custom', 'unavailable')),
    unavailable_reason  text NOT NULL DEFAULT '',
    working_hours       jsonb NOT NULL DEFAULT '[]',
    wrap_up_time        integer NOT NULL DEFAULT 0 CHECK (wrap_up_time BETWEEN 0 AND 3600),
    external_number     text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, id),
    CONSTRAINT users_extension_key UNIQUE (company_id, extension)
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- A device is a dial string the PBX knows (PJSIP/alice); the media driver
-- looks its user up when the device registers or unregisters.
CREATE TABLE user_devices (
    company_id bigint NOT NULL,
    user_id    bigint NOT NULL,
    position   integer NOT NULL,
    endpoint   text NOT NULL,
    PRIMARY KEY (user_id, position),
    FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE,
    CONSTRAINT user_devices_endpoint_key UNIQUE (company_id, endpoint)
);

CREATE TABLE teams (
    id                 bigserial PRIMARY KEY,
    company_id         bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
    name               text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    ringing_rule       text NOT NULL DEFAULT 'simultaneous'
                       CHECK (ringing_rule IN ('simultaneous', 'random', 'longest_idle', 'round_robin')),
    ring_slice_seconds integer NOT NULL DEFAULT 20 CHECK (ring_slice_seconds BETWEEN 5 AND 3600),
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, id)
);
CREATE UNIQUE INDEX teams_name_key ON teams (company_id, lower(name));

CREATE TABLE team_members (
    company_id bigint NOT NULL,
    team_id    bigint NOT NULL,
    user_id    bigint NOT NULL,
    position   integer NOT NULL,
    PRIMARY KEY (team_id, user_id),
    FOREIGN KEY (company_id, team_id) REFERENCES teams (company_id, id) ON DELETE CASCADE,
    FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE
);
CREATE INDEX team_members_user ON team_members (user_id);

CREATE TABLE media (
    id           bigserial PRIMARY KEY,
    company_id   bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
    name         text NOT NULL,
    content_type text NOT NULL,
    sha256       text NOT NULL,
    size_bytes   bigint NOT NULL,
    duration_ms  integer NOT NULL,
    data         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, id)
);

CREATE TABLE numbers (
    id                   bigserial PRIMARY KEY,
    company_id           bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
    name                 text NOT NULL,
    digits               text NOT NULL CONSTRAINT numbers_digits_key UNIQUE,
    country              text NOT NULL,
    time_zone            text NOT NULL,
    type                 text NOT NULL DEFAULT 'classic' CHECK (type IN ('classic', 'ivr')),
    availability_status  text NOT NULL DEFAULT 'open' CHECK (availability_status IN ('open', 'closed', 'custom')),
    -- {"slots": [...], "special_dates": [...]}: read whole, never queried inside.
    business_hours       jsonb NOT NULL DEFAULT '{"slots": [], "special_dates": []}',
    priority             integer NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 1),
    respect_queuing_time boolean NOT NULL DEFAULT false,
    callback_request     boolean NOT NULL DEFAULT false,
    mandatory_tagging    boolean NOT NULL DEFAULT false,
    voicemail            boolean NOT NULL DEFAULT true,
    music_on_hold        boolean NOT NULL DEFAULT true,
    record_inbound       boolean NOT NULL DEFAULT false,
    record_inbound_pause boolean NOT NULL DEFAULT false,
    record_outbound      boolean NOT NULL DEFAULT false,
    record_outbound_pause boolean NOT NULL DEFAULT false,
    created_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, id)
);

-- Ring steps in order; exactly one of user_id / team_id is set. Deleting a
-- user or team that a step rings is refused (RESTRICT): the admin must
-- change the line first, so no call flow silently loses a step.
CREATE TABLE number_steps (
    company_id   bigint NOT NULL,
    number_id    bigint NOT NULL,
    position     integer NOT NULL,
    user_id      bigint,
    team_id      bigint,
    ring_seconds integer NOT NULL CHECK (ring_seconds BETWEEN 5 AND 3600),
    PRIMARY KEY (number_id, position),
    FOREIGN KEY (company_id, number_id) REFERENCES numbers (company_id, id) ON DELETE CASCADE,
    CONSTRAINT number_steps_user_fkey FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id),
    CONSTRAINT number_steps_team_fkey FOREIGN KEY (company_id, team_id) REFERENCES teams (company_id, id),
    CHECK ((user_id IS NULL) <> (team_id IS NULL))
);
CREATE INDEX number_steps_user ON number_steps (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX number_steps_team ON number_steps (team_id) WHERE team_id IS NOT NULL;

CREATE TABLE number_outbound_users (
    company_id bigint NOT NULL,
    number_id  bigint NOT NULL,
    user_id    bigint NOT NULL,
    PRIMARY KEY (number_id, user_id),
    FOREIGN KEY (company_id, number_id) REFERENCES numbers (company_id, id) ON DELETE CASCADE,
    FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE
);

CREATE TABLE number_ivr_options (
    company_id       bigint NOT NULL,
    number_id        bigint NOT NULL,
    key              char(1) NOT NULL CHECK (key BETWEEN '0' AND '9'),
    target_type      text NOT NULL CHECK (target_type IN ('team', 'user', 'number', 'external', 'voicemail')),
    user_id          bigint,
    team_id          bigint,
    target_number_id bigint,
    digits           text,
    PRIMARY KEY (number_id, key),
    FOREIGN KEY (company_id, number_id) REFERENCES numbers (company_id, id) ON DELETE CASCADE,
    CONSTRAINT number_ivr_options_user_fkey FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id),
    CONSTRAINT number_ivr_options_team_fkey FOREIGN KEY (company_id, team_id) REFERENCES teams (company_id, id),
    CONSTRAINT number_ivr_options_number_fkey FOREIGN KEY (company_id, target_number_id) REFERENCES numbers (company_id, id),
    CHECK (num_nonnulls(user_id, team_id, target_number_id, digits) =
           CASE WHEN target_type = 'voicemail' THEN 0 ELSE 1 END)
);

CREATE TABLE number_messages (
    company_id bigint NOT NULL,
    number_id  bigint NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('welcome', 'ivr', 'waiting', 'ringing_tone',
                                             'unanswered_call', 'after_hours', 'callback_later', 'blocked')),
    type       text NOT NULL CHECK (type IN ('tts', 'media')),
    text       text,
    language   text,
    voice      text,
    media_id   bigint,
    PRIMARY KEY (number_id, kind),
    FOREIGN KEY (company_id, number_id) REFERENCES numbers (company_id, id) ON DELETE CASCADE,
    CONSTRAINT number_messages_media_fkey FOREIGN KEY (company_id, media_id) REFERENCES media (company_id, id),
    CHECK ((type = 'tts') = (media_id IS NULL))
);

CREATE TABLE tags (
    id          bigserial PRIMARY KEY,
    company_id  bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
    name        text NOT NULL,
    color       text NOT NULL,
    description text NOT NULL DEFAULT '',
    system      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, id)
);
CREATE UNIQUE INDEX tags_name_key ON tags (company_id, lower(name));

CREATE TABLE blocked_numbers (
    id         bigserial PRIMARY KEY,
    company_id bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
    digits     text NOT NULL,
    note       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT blocked_numbers_digits_key UNIQUE (company_id, digits)
);

-- The token is never stored: only its SHA-256 (tokens are 256 random bits,
-- so a plain hash cannot be brute-forced).
CREATE TABLE api_keys (
    id           bigserial PRIMARY KEY,
    company_id   bigint NOT NULL,
    user_id      bigint NOT NULL,
    api_id       text NOT NULL CONSTRAINT api_keys_api_id_key UNIQUE,
    token_sha256 bytea NOT NULL,
    name         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE CASCADE
);

CREATE TABLE webhooks (
    id          bigserial PRIMARY KEY,
    company_id  bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
    url         text NOT NULL,
    custom_name text NOT NULL DEFAULT '',
    events      text[] NOT NULL,
    token       text NOT NULL,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, id)
);

CREATE TABLE webhook_deliveries (
    id               bigserial PRIMARY KEY,
    company_id       bigint NOT NULL,
    webhook_id       bigint NOT NULL,
    event            text NOT NULL,
    payload          jsonb NOT NULL,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    last_status_code integer,
    last_error       text,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    FOREIGN KEY (company_id, webhook_id) REFERENCES webhooks (company_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

CREATE TABLE calls (
    id                 bigserial PRIMARY KEY,
    company_id         bigint NOT NULL REFERENCES companies ON DELETE CASCADE,
    number_id          bigint,
    user_id            bigint,
    direction          text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    status             text NOT NULL DEFAULT 'initial' CHECK (status IN ('initial', 'answered', 'done')),
    raw_digits         text NOT NULL,
    started_at         timestamptz NOT NULL,
    answered_at        timestamptz,
    ended_at           timestamptz,
    waiting_time       integer,
    talk_time          integer,
    missed_call_reason text CHECK (missed_call_reason IN ('out_of_opening_hours', 'short_abandoned',
                              'abandoned_in_ivr', 'abandoned', 'no_available_agent',
                              'agents_did_not_answer', 'blocked')),
    hangup_cause       text,
    ivr_options_selected text[] NOT NULL DEFAULT '{}',
    transferred_to     jsonb,
    recording_media_id bigint,
    voicemail_media_id bigint,
    assigned_to        bigint,
    archived           boolean NOT NULL DEFAULT false,
    -- The media server's own id of the caller's channel (ARI channel id,
    -- FreeSWITCH uuid), to settle calls after a reconnect.
    media_ref          text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (company_id, id),
    FOREIGN KEY (company_id, number_id) REFERENCES numbers (company_id, id) ON DELETE SET NULL (number_id),
    FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE SET NULL (user_id),
    FOREIGN KEY (company_id, assigned_to) REFERENCES users (company_id, id) ON DELETE SET NULL (assigned_to),
    FOREIGN KEY (company_id, recording_media_id) REFERENCES media (company_id, id) ON DELETE SET NULL (recording_media_id),
    FOREIGN KEY (company_id, voicemail_media_id) REFERENCES media (company_id, id) ON DELETE SET NULL (voicemail_media_id)
);
CREATE INDEX calls_company_started ON calls (company_id, started_at);
CREATE INDEX calls_unfinished ON calls (company_id) WHERE status <> 'done';

CREATE TABLE call_teams (
    company_id bigint NOT NULL,
    call_id    bigint NOT NULL,
    team_id    bigint NOT NULL,
    PRIMARY KEY (call_id, team_id),
    FOREIGN KEY (company_id, call_id) REFERENCES calls (company_id, id) ON DELETE CASCADE,
    FOREIGN KEY (company_id, team_id) REFERENCES teams (company_id, id) ON DELETE CASCADE
);

-- The timeline: every event of a call, in order.
CREATE TABLE call_events (
    id         bigserial PRIMARY KEY,
    company_id bigint NOT NULL,
    call_id    bigint NOT NULL,
    event      text NOT NULL,
    at         timestamptz NOT NULL,
    user_id    bigint,
    data       jsonb NOT NULL DEFAULT '{}',
    FOREIGN KEY (company_id, call_id) REFERENCES calls (company_id, id) ON DELETE CASCADE
);
CREATE INDEX call_events_call ON call_events (call_id, id);

CREATE TABLE call_tags (
    company_id bigint NOT NULL,
    call_id    bigint NOT NULL,
    tag_id     bigint NOT NULL,
    tagged_by  bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (call_id, tag_id),
    FOREIGN KEY (company_id, call_id) REFERENCES calls (company_id, id) ON DELETE CASCADE,
    FOREIGN KEY (company_id, tag_id) REFERENCES tags (company_id, id) ON DELETE CASCADE
);

CREATE TABLE call_comments (
    id         bigserial PRIMARY KEY,
    company_id bigint NOT NULL,
    call_id    bigint NOT NULL,
    user_id    bigint,
    content    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (company_id, call_id) REFERENCES calls (company_id, id) ON DELETE CASCADE,
    FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id) ON DELETE SET NULL (user_id)
);

-- Inbox tasks: what an agent must follow up (missed call, voicemail,
-- callback request, assignment).
CREATE TABLE inbox_tasks (
    id          bigserial PRIMARY KEY,
    company_id  bigint NOT NULL,
    call_id     bigint NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('missed_call', 'voicemail', 'callback_request', 'assignment')),
    number_id   bigint,
    assigned_to bigint,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'archived')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz,
    FOREIGN KEY (company_id, call_id) REFERENCES calls (company_id, id) ON DELETE CASCADE,
    FOREIGN KEY (company_id, number_id) REFERENCES numbers (company_id, id) ON DELETE SET NULL (number_id),
    FOREIGN KEY (company_id, assigned_to) REFERENCES users (company_id, id) ON DELETE SET NULL (assigned_to)
);
CREATE INDEX inbox_tasks_open ON inbox_tasks (company_id, created_at) WHERE status = 'open';

-- +goose Down
DROP TABLE inbox_tasks, call_comments, call_tags, call_events, call_teams, calls,
    webhook_deliveries, webhooks, api_keys, blocked_numbers, tags, number_messages, number_ivr_options,
    number_outbound_users, number_steps, numbers, media, team_members, teams,
    user_devices, users, companies;
