-- The self-service portal: its sessions and sign-in throttle, phone
-- numbers people registered themselves, each person's activity record,
-- and what a question needs to judge an answer. Kept in step between
-- sqlite/ and postgres/.

-- The fewest digits an answer may have, and what kind of answer it is
-- ('text', 'year', 'number'); `owner` is set on a question a person wrote
-- for themselves (nobody else is asked it).
ALTER TABLE questions ADD COLUMN min_digits BIGINT NOT NULL DEFAULT 3;
ALTER TABLE questions ADD COLUMN kind TEXT NOT NULL DEFAULT 'text';
ALTER TABLE questions ADD COLUMN owner TEXT REFERENCES people(id) ON DELETE CASCADE;

-- The number a built-in IVR session was called from, as the trunk gave it.
ALTER TABLE api_sessions ADD COLUMN calling_number TEXT;

CREATE TABLE portal_sessions (
    digest TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    client_ip TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    authenticated_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX portal_sessions_by_person ON portal_sessions (person_id);

CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    door TEXT NOT NULL,
    login TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_by_login ON sign_in_failures (door, login, at);
CREATE INDEX sign_in_failures_by_ip ON sign_in_failures (door, client_ip, at);

CREATE TABLE registered_phones (
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    verified_at BIGINT NOT NULL,
    PRIMARY KEY (person_id, number)
);

-- A number being proved: the portal shows the code, the person has the
-- number called and keys it. The code is kept only until the proof ends.
CREATE TABLE phone_verifications (
    id TEXT PRIMARY KEY,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    code TEXT,
    call_id TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    finished_at BIGINT,
    outcome TEXT
);
CREATE INDEX phone_verifications_by_person ON phone_verifications (person_id, created_at);

-- A one-time PIN that lets a person enrol by phone (issued by the
-- helpdesk or the portal); only its hash is kept.
CREATE TABLE enrolment_pins (
    person_id TEXT PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    pin_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- An enrolment by phone under way: opened by a right PIN in an IVR
-- session, closed when its answers are stored.
CREATE TABLE phone_enrolments (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES api_sessions(id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    completed_at BIGINT
);

CREATE TABLE activity (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    door TEXT NOT NULL DEFAULT '',
    caller_number TEXT,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX activity_by_person ON activity (person_id, at);

-- The last reminder e-mail queued for a person (not enrolled, or due to
-- confirm their answers), so at most one goes out per interval.
CREATE TABLE reminders (
    person_id TEXT PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    queued_at BIGINT NOT NULL,
    reason TEXT NOT NULL
);
