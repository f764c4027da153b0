-- Account flows: lookups by email ("mot de passe oublié") and housekeeping of expired rows.
CREATE INDEX users_email_idx ON users (lower(email)) WHERE email IS NOT NULL;
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX password_resets_user_idx ON password_resets (user_id);
CREATE INDEX rate_limits_window_idx ON rate_limits (window_start);
