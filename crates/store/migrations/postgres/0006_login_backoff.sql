-- Failed API logins count toward the per-user throttle only when they came
-- from an address in that API user's allow-list: refusals from elsewhere
-- are refused anyway, and counting them let anyone who could reach the
-- port cut the IVR platform off. Kept in step between sqlite/ and
-- postgres/.
ALTER TABLE login_failures ADD COLUMN counts_for_user BIGINT NOT NULL DEFAULT 1;
