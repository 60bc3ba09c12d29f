-- Each observation's GeoJSON Feature, as the API sends it, kept as text beside the row.
--
-- A listing page of 1,000 features spent more time turning 32 columns per row into a
-- Feature (decoding them in Python, building dicts, encoding JSON: 12-15 ms) than finding
-- the rows (7 ms). With the text kept, a page is the rows' feature texts joined by commas.
--
-- The text is written by the application on every insert, update and import
-- (data/postgis.py, with_feature_texts), by the same code that writes the Feature of a
-- single observation, so the two are equal byte for byte. An earlier draft built it in a
-- trigger; PostgreSQL reads a zone name such as CET as a fixed-offset abbreviation and
-- spells 5.0 as 5, so a trigger's text could differ from the API's.
--
-- Rows stored before this migration are filled in by `herdwatch migrate` right after it
-- (PostGISStore.migrate, in batches); a listing that meets a row still without its text
-- builds that page from the columns instead.
ALTER TABLE observations ADD COLUMN feature text;

-- Rows still without their text, found at once: empty in normal running, so migrate() can
-- look every time it runs, and writes (which always bring the text) never touch it.
CREATE INDEX observations_feature_missing ON observations (id) WHERE feature IS NULL;
