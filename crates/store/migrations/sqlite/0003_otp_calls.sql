-- Voice-OTP calls: accepted requests are written here before the API
-- answers, then placed by a worker that leases them. The code is kept only
-- until the call reaches a final status. Kept in step between sqlite/ and
-- postgres/.
CREATE TABLE otp_calls (
    id TEXT PRIMARY KEY,
    api_user TEXT NOT NULL,
    idempotency_key TEXT,
    request_digest TEXT NOT NULL,
    destination TEXT NOT NULL,
    dial_string TEXT NOT NULL,
    caller_id TEXT,
    mode TEXT NOT NULL,
    language TEXT NOT NULL,
    repeats BIGINT NOT NULL,
    code TEXT,
    code_mask TEXT NOT NULL,
    callback_url TEXT,
    status TEXT NOT NULL,
    is_final BIGINT NOT NULL DEFAULT 0,
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    sip_status BIGINT,
    ring_ms BIGINT,
    talk_ms BIGINT,
    code_played BIGINT NOT NULL DEFAULT 0,
    entries TEXT NOT NULL DEFAULT '[]'
);
CREATE UNIQUE INDEX otp_calls_idempotency ON otp_calls (api_user, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX otp_calls_due ON otp_calls (next_attempt_at) WHERE status = 'queued';
CREATE INDEX otp_calls_in_progress ON otp_calls (lease_until) WHERE is_final = 0 AND status <> 'queued';
CREATE INDEX otp_calls_by_user ON otp_calls (api_user, created_at);
CREATE INDEX otp_calls_by_destination ON otp_calls (destination, created_at);

CREATE TABLE otp_call_history (
    call_id TEXT NOT NULL REFERENCES otp_calls(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    status TEXT NOT NULL,
    at BIGINT NOT NULL,
    detail TEXT,
    PRIMARY KEY (call_id, seq)
);
