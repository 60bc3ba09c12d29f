-- Researchers' herd de-duplication decisions (confirm, reject, merge, split), append-only:
-- each is kept with who and when; reports replay them in id order, later ones winning.
-- Mirrors data/sql/sqlite/0003_herd_decisions.sql.
CREATE TABLE herd_decisions (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action          text NOT NULL CHECK (action IN ('confirm', 'reject', 'merge', 'split')),
    observation_ids jsonb NOT NULL,         -- JSON array of observation UUIDs
    other_ids       jsonb NOT NULL,         -- JSON array: for split, the rest of the herd
    actor           text NOT NULL,
    decided_at      timestamptz NOT NULL,
    note            text
);
