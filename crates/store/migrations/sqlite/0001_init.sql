-- touchtone schema, SQLite flavour. Keep in step with ../postgres/.
-- Times are BIGINT milliseconds since the Unix epoch; flags are BIGINT 0/1,
-- so one set of queries serves both databases.

CREATE TABLE people (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    department TEXT NOT NULL DEFAULT '',
    employee_number TEXT,
    mail TEXT,
    phone_numbers TEXT NOT NULL DEFAULT '[]',
    disabled BIGINT NOT NULL DEFAULT 0,
    failures_cleared_at BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE keypad_ids (
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    attribute TEXT NOT NULL,
    digits TEXT NOT NULL,
    PRIMARY KEY (person_id, attribute)
);
CREATE INDEX keypad_ids_by_digits ON keypad_ids (digits);

CREATE TABLE accounts (
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    account TEXT NOT NULL,
    PRIMARY KEY (person_id, target, account)
);

CREATE TABLE questions (
    id TEXT PRIMARY KEY,
    text TEXT NOT NULL,
    max_digits BIGINT NOT NULL
);

CREATE TABLE answers (
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    question_id TEXT NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    PRIMARY KEY (person_id, question_id)
);

CREATE TABLE api_users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    allowed_networks TEXT NOT NULL,
    privileged BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_sessions (
    id TEXT PRIMARY KEY,
    api_user TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT,
    end_reason TEXT,
    verified_person TEXT,
    verified_at BIGINT
);

CREATE TABLE session_tokens (
    digest TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES api_sessions(id) ON DELETE CASCADE,
    issued_at BIGINT NOT NULL,
    consumed_at BIGINT
);
CREATE INDEX session_tokens_by_session ON session_tokens (session_id);

CREATE TABLE challenges (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES api_sessions(id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    question_ids TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    completed_at BIGINT
);

CREATE TABLE verification_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    person_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    door TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX verification_failures_by_person ON verification_failures (person_id, at);

CREATE TABLE person_locks (
    person_id TEXT PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    locked_at BIGINT NOT NULL,
    locked_until BIGINT
);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    api_user TEXT NOT NULL,
    client_ip TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_failures_by_user ON login_failures (api_user, at);
CREATE INDEX login_failures_by_ip ON login_failures (client_ip, at);

CREATE TABLE local_accounts (
    account TEXT PRIMARY KEY,
    password_hash TEXT,
    locked BIGINT NOT NULL DEFAULT 0,
    disabled BIGINT NOT NULL DEFAULT 0,
    must_change BIGINT NOT NULL DEFAULT 0,
    password_changed_at BIGINT
);

CREATE TABLE operations (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    person_id TEXT NOT NULL,
    actor TEXT NOT NULL,
    session_id TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT
);

CREATE TABLE operation_steps (
    operation_id TEXT NOT NULL REFERENCES operations(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    account TEXT NOT NULL,
    state TEXT NOT NULL,
    error TEXT,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    PRIMARY KEY (operation_id, target, account)
);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    action TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    delivered_at BIGINT,
    dead_at BIGINT,
    last_error TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

-- The newest audit row, updated in the same transaction as each append.
-- Write transactions lock it first, which orders them and the chain.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The audit log is append-only; an attacker with full database rights can
-- still drop these triggers, which is what `touchtone audit verify` catches.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
