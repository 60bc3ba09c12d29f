-- Viewer queries ask for a box AND a time window. Two separate indexes meet in a BitmapAnd
-- that reads every index entry of the window (100,000 for a year of 1,000,000 sightings);
-- one n-D GiST index over (lon, lat, epoch seconds) finds just the rows in both at once.
-- The epoch comes from timestamptz - timestamptz (immutable), as extract() on a timestamptz
-- is not; data/postgis_queries.py repeats this expression word for word so it is used.
CREATE INDEX observations_space_time ON observations USING gist (
    ST_MakePoint(lon, lat, extract(epoch FROM observed_at - timestamptz '1970-01-01 00:00:00+00')::float8)
    gist_geometry_ops_nd
);

-- Statistics for the new expression index, so the planner prefers it from the start.
ANALYZE observations;
