-- Researchers' herd de-duplication decisions (confirm, reject, merge, split), append-only:
-- each is kept with who and when; reports replay them in id order, later ones winning.
CREATE TABLE herd_decisions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    action          TEXT NOT NULL CHECK (action IN ('confirm', 'reject', 'merge', 'split')),
    observation_ids TEXT NOT NULL,           -- JSON array of observation UUIDs
    other_ids       TEXT NOT NULL,           -- JSON array: for split, the rest of the herd
    actor           TEXT NOT NULL,
    decided_at      TEXT NOT NULL,           -- UTC, same fixed format as observations
    note            TEXT
);
