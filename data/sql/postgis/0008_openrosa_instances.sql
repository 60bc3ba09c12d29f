-- OpenRosa submissions received (ODK Collect, KoboCollect): which observation and revision
-- each instanceID produced, and a SHA-256 of the XML. A re-sent instance is known by it
-- (same XML: nothing new; other XML: a conflict); an edit (meta/deprecatedID) is based on
-- the revision its deprecated instance produced. Mirrors data/sql/sqlite/0008; the primary
-- key makes two workers receiving one instance at once keep one row.
CREATE TABLE openrosa_instances (
    instance_id    uuid PRIMARY KEY,
    observation_id uuid NOT NULL,
    revision       integer NOT NULL,
    xml_sha256     text NOT NULL,
    deprecated_id  uuid,
    observer       text NOT NULL,
    received_at    timestamptz NOT NULL
);
CREATE INDEX openrosa_instances_observation ON openrosa_instances (observation_id);
