-- Core schema on PostGIS: observations, their audit trail, surveys, users and tokens.
-- Mirrors data/sql/sqlite/0001_core.sql column for column (data/_rows.py writes both);
-- differences are typed columns (uuid, timestamptz, jsonb) and the geometry + GiST index.

-- The extension lives in `public` (on the search_path after our schema); creating it needs
-- rights the app role may lack, so only try when it is missing.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis') THEN
        CREATE EXTENSION postgis SCHEMA public;
    END IF;
END
$$;

-- Text that is ordered or compared against SQLite's results uses the "C" collation:
-- SQLite orders text bytewise, and so must we (en_US would sort "-5:1" after "3:0").
CREATE TABLE observations (
    id            uuid PRIMARY KEY,                 -- device-made UUID: the idempotency key
    observed_at   timestamptz NOT NULL,
    local_date    date NOT NULL,                    -- the observer's local date: periods use it
    timezone      text NOT NULL,
    lon           double precision NOT NULL,
    lat           double precision NOT NULL,
    geom          geometry(Point, 4326) NOT NULL
                  GENERATED ALWAYS AS (ST_SetSRID(ST_MakePoint(lon, lat), 4326)) STORED,
    ea_x          double precision NOT NULL,        -- EPSG:3576 metres, same grid as SQLite
    ea_y          double precision NOT NULL,
    accuracy_m    double precision,
    count         integer NOT NULL CHECK (count >= 0),
    adult_males   integer,
    adult_females integer,
    yearlings     integer,
    calves        integer,
    unclassified  integer,
    count_method  text COLLATE "C" NOT NULL,
    survey_id     text COLLATE "C",
    population    text COLLATE "C" NOT NULL,
    behaviour     text,
    notes         text,
    device_id     text,
    observer      text COLLATE "C" NOT NULL,
    revision      integer NOT NULL,
    status        text NOT NULL,
    review_state  text NOT NULL,
    flags         jsonb NOT NULL,
    region        text COLLATE "C",
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    content_hash  text NOT NULL,                    -- hash of the current device-side content
    upload_hash   text NOT NULL,                    -- hash of the first upload: re-sends match it
    change_seq    bigint NOT NULL                   -- revisions.seq of the latest change
);
CREATE INDEX observations_geom ON observations USING gist (geom);
CREATE INDEX observations_time ON observations (observed_at, id);
CREATE INDEX observations_changes ON observations (change_seq);
CREATE INDEX observations_population_time ON observations (population, local_date);

-- Revision numbers come from a sequence so concurrent workers never hand out the same one;
-- the change feed stays gap-free through an advisory lock (see data/postgis.py).
CREATE SEQUENCE revision_seq;

CREATE TABLE revisions (
    seq            bigint PRIMARY KEY,
    observation_id uuid NOT NULL,
    revision       integer NOT NULL,
    action         text NOT NULL,
    actor          text NOT NULL,
    at             timestamptz NOT NULL,
    before         json,                            -- snapshots kept verbatim (json, not jsonb)
    after          json,
    reason         text,
    UNIQUE (observation_id, revision)
);

CREATE TABLE surveys (
    id           text COLLATE "C" PRIMARY KEY,
    method       text NOT NULL,
    started_at   timestamptz NOT NULL,
    ended_at     timestamptz,
    name         text NOT NULL,
    team         jsonb NOT NULL,
    platform     text,
    geometry     json,                              -- GeoJSON as sent (kept verbatim)
    effort_km    double precision,
    effort_km2   double precision,
    notes        text,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL,
    content_hash text NOT NULL
);

CREATE TABLE users (
    name       text COLLATE "C" PRIMARY KEY,
    role       text NOT NULL CHECK (role IN ('observer', 'researcher', 'admin')),
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL
);

CREATE TABLE tokens (
    token_hash text PRIMARY KEY,                    -- SHA-256 of the token; never the token
    user_name  text COLLATE "C" NOT NULL REFERENCES users (name),
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
