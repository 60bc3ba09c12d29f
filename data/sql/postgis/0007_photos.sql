-- Photos of observations, kept in the database so every worker sees the same bytes.
-- Mirrors data/sql/sqlite/0006_photos.sql.
CREATE TABLE photos (
    observation_id uuid NOT NULL,
    name           text COLLATE "C" NOT NULL,
    sha256         text NOT NULL,
    media_type     text NOT NULL CHECK (media_type IN ('image/jpeg', 'image/png')),
    size           integer NOT NULL,
    width          integer NOT NULL,
    height         integer NOT NULL,
    data           bytea NOT NULL,
    thumbnail      bytea NOT NULL,
    uploaded_by    text NOT NULL,
    created_at     timestamptz NOT NULL,
    PRIMARY KEY (observation_id, name)
);
-- Large photo bytes stay out of line (TOAST) uncompressed: JPEG and PNG are compressed already.
ALTER TABLE photos ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE photo_uploads (
    observation_id uuid NOT NULL,
    name           text COLLATE "C" NOT NULL,
    total          integer NOT NULL,
    data           bytea NOT NULL,
    uploaded_by    text NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (observation_id, name)
);
ALTER TABLE photo_uploads ALTER COLUMN data SET STORAGE EXTERNAL;
