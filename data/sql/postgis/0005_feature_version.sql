-- The format each stored Feature text was written in (domain.wire.FEATURE_VERSION).
--
-- When the API's Feature changes (a new property, another spelling), the version goes up:
-- listings then build rows still in an older format from their columns, and
-- `herdwatch migrate` rewrites those texts itself, a batch per transaction
-- (PostGISStore.refresh_feature_texts; a crash midway and a re-run finishes the job).
--
-- Every text stored so far is in format 1. A constant default costs no table rewrite.
ALTER TABLE observations ADD COLUMN feature_version integer NOT NULL DEFAULT 1;
