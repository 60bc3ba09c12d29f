-- Photos of observations, kept in the database: one file to back up, and (on PostGIS) every
-- worker sees the same bytes. A photo is stored once it is complete, under its SHA-256;
-- photo_uploads holds the bytes of an upload still arriving in chunks (resumable).
CREATE TABLE photos (
    observation_id TEXT NOT NULL,
    name           TEXT NOT NULL,            -- the device's name for it, unique per sighting
    sha256         TEXT NOT NULL,            -- hex digest of data: a re-send is compared by it
    media_type     TEXT NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png')),
    size           INTEGER NOT NULL,
    width          INTEGER NOT NULL,
    height         INTEGER NOT NULL,
    data           BLOB NOT NULL,
    thumbnail      BLOB NOT NULL,            -- JPEG, at most 320 px on its longer side
    uploaded_by    TEXT NOT NULL,
    created_at     TEXT NOT NULL,            -- UTC, same fixed format as observations
    PRIMARY KEY (observation_id, name)
);

CREATE TABLE photo_uploads (
    observation_id TEXT NOT NULL,
    name           TEXT NOT NULL,
    total          INTEGER NOT NULL,         -- the size the client announced
    data           BLOB NOT NULL,            -- the first len(data) bytes, received in order
    uploaded_by    TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (observation_id, name)
);
