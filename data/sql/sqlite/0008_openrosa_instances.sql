-- OpenRosa submissions received (ODK Collect, KoboCollect): which observation and revision
-- each instanceID produced, and a SHA-256 of the XML. A re-sent instance is known by it
-- (same XML: nothing new; other XML: a conflict); an edit (meta/deprecatedID) is based on
-- the revision its deprecated instance produced. Mirrors data/sql/postgis/0008.
CREATE TABLE openrosa_instances (
    instance_id    TEXT PRIMARY KEY,         -- the UUID of meta/instanceID
    observation_id TEXT NOT NULL,
    revision       INTEGER NOT NULL,         -- the observation's revision it produced
    xml_sha256     TEXT NOT NULL,
    deprecated_id  TEXT,                     -- the instance it edited, if it was an edit
    observer       TEXT NOT NULL,
    received_at    TEXT NOT NULL             -- UTC, same fixed format as observations
);
CREATE INDEX openrosa_instances_observation ON openrosa_instances (observation_id);
