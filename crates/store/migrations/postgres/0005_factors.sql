-- Verification factors beyond questions: the portal's second sign-in
-- step, TOTP secrets, and which factors a session has proved. Kept in
-- step between sqlite/ and postgres/.

-- The phone proof (phone_verifications.id) a portal sign-in still waits
-- for, when the second factor is on; NULL once signed in fully.
ALTER TABLE portal_sessions ADD COLUMN second_factor TEXT;
-- 'register' (a number being added) or 'sign_in' (a second factor).
ALTER TABLE phone_verifications ADD COLUMN purpose TEXT NOT NULL DEFAULT 'register';

-- What a challenge asks for: 'questions' (its question_ids) or another
-- factor ('totp'), answered through the same one-time challenge ID.
ALTER TABLE challenges ADD COLUMN factor TEXT NOT NULL DEFAULT 'questions';

-- A person's authenticator-app secret, sealed (encrypted and bound to the
-- person) with a key derived from the pepper, so a copy of the database
-- alone does not reveal it. `pending` is a secret shown in the portal and
-- not yet confirmed with a code; `last_step` is the newest time step whose
-- code was accepted, so no code is accepted twice.
CREATE TABLE totp_secrets (
    person_id TEXT PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
    sealed TEXT,
    confirmed_at BIGINT,
    last_step BIGINT NOT NULL DEFAULT 0,
    pending TEXT,
    pending_at BIGINT
);

-- The factors a session proved for a person ('questions', 'totp'); the
-- verification policy reads them before a reset or an unlock.
CREATE TABLE session_factors (
    session_id TEXT NOT NULL,
    person_id TEXT NOT NULL,
    factor TEXT NOT NULL,
    verified_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, person_id, factor)
);
