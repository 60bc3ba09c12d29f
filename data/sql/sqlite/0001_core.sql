-- Core schema: observations, their audit trail, surveys, users and tokens.
-- Times are UTC ISO-8601 text in one fixed format, so text order is time order.
CREATE TABLE observations (
    id            TEXT PRIMARY KEY,          -- device-made UUID: the idempotency key
    observed_at   TEXT NOT NULL,             -- UTC, 'YYYY-MM-DDTHH:MM:SS.ffffff+00:00'
    local_date    TEXT NOT NULL,             -- the observer's local date: periods use it
    timezone      TEXT NOT NULL,
    lon           REAL NOT NULL,
    lat           REAL NOT NULL,
    ea_x          REAL NOT NULL,             -- EPSG:3576 metres, for equal-area grids
    ea_y          REAL NOT NULL,
    accuracy_m    REAL,
    count         INTEGER NOT NULL CHECK (count >= 0),
    adult_males   INTEGER,
    adult_females INTEGER,
    yearlings     INTEGER,
    calves        INTEGER,
    unclassified  INTEGER,
    count_method  TEXT NOT NULL,
    survey_id     TEXT,
    population    TEXT NOT NULL,
    behaviour     TEXT,
    notes         TEXT,
    device_id     TEXT,
    observer      TEXT NOT NULL,
    revision      INTEGER NOT NULL,
    status        TEXT NOT NULL,
    review_state  TEXT NOT NULL,
    flags         TEXT NOT NULL,             -- JSON array
    region        TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    content_hash  TEXT NOT NULL,             -- hash of the current device-side content
    upload_hash   TEXT NOT NULL,             -- hash of the first upload: re-sends match it
    change_seq    INTEGER NOT NULL,          -- revisions.seq of the latest change
    -- Spatial index key: the 1°×1° lon/lat cell, computed by SQLite itself (no stored copy).
    -- An R*Tree made inserts 2.7 times slower (bench/ingest.py); a bbox query instead lists
    -- the cells it covers and filters exactly on lon/lat.
    geo_cell      INTEGER GENERATED ALWAYS AS
                  (CAST(lon + 180.0 AS INTEGER) * 200 + CAST(lat + 90.0 AS INTEGER)) VIRTUAL
);
CREATE INDEX observations_time ON observations (observed_at, id);
CREATE INDEX observations_cell_time ON observations (geo_cell, observed_at);
CREATE INDEX observations_changes ON observations (change_seq);

CREATE TABLE revisions (
    seq            INTEGER PRIMARY KEY,
    observation_id TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    action         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    at             TEXT NOT NULL,
    before         TEXT,                     -- JSON snapshot
    after          TEXT,                     -- JSON snapshot; NULL for a create (see _rows)
    reason         TEXT,
    UNIQUE (observation_id, revision)
);

CREATE TABLE surveys (
    id           TEXT PRIMARY KEY,
    method       TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    name         TEXT NOT NULL,
    team         TEXT NOT NULL,              -- JSON array
    platform     TEXT,
    geometry     TEXT,                       -- GeoJSON
    effort_km    REAL,
    effort_km2   REAL,
    notes        TEXT,
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    content_hash TEXT NOT NULL
);

CREATE TABLE users (
    name       TEXT PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('observer', 'researcher', 'admin')),
    active     INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,             -- SHA-256 of the token; the token itself is never kept
    user_name  TEXT NOT NULL REFERENCES users (name),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
