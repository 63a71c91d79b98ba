-- Voice notification calls ("your password was reset ... if this was not
-- you, press 1") ride the voice-OTP queue: which person a call is about
-- and what it tells them. NULL for ordinary OTP calls. Kept in step
-- between sqlite/ and postgres/.
ALTER TABLE otp_calls ADD COLUMN person_id TEXT;
ALTER TABLE otp_calls ADD COLUMN purpose TEXT;
