-- Browser sessions, kept on the server so that they expire there (idle and absolute
-- limits) and sign-out ends them. The cookie holds a random id; only its SHA-256 is kept.
CREATE TABLE sessions (
    session_hash TEXT PRIMARY KEY,
    user_name    TEXT NOT NULL REFERENCES users (name),
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at     TEXT
);
