-- Browser sessions, kept on the server so that they expire there (idle and absolute
-- limits) and sign-out ends them. The cookie holds a random id; only its SHA-256 is kept.
CREATE TABLE sessions (
    session_hash text PRIMARY KEY,
    user_name    text COLLATE "C" NOT NULL REFERENCES users (name),
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    ended_at     timestamptz
);
