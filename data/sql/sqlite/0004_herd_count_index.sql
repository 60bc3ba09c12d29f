-- Herd-count maps (herd_counts by="cell", every=year|month) read this covering index in its
-- order and stream the GROUP BY: without it SQLite sorted every row, 3.5-3.8 s for a
-- million (bench/map.py). Keys are VIRTUAL generated columns, so nothing is stored twice in
-- the table and inserts name the same columns as before; the index holds their values.
-- The local month, as the period keys spell it (data/sql_shared.Dialect.month).
ALTER TABLE observations ADD COLUMN local_month TEXT
    GENERATED ALWAYS AS (substr(local_date, 1, 7)) VIRTUAL;
-- EPSG:3576 grid cell indices at the map's cell sizes of 200, 100, 50 and 25 km, floored
-- exactly as sql_shared.key_expression floors them. Coarsest first: each nests in the one
-- before, so a prefix of the index is in group order for any of the four sizes.
ALTER TABLE observations ADD COLUMN grid200_x INTEGER
    GENERATED ALWAYS AS (CAST(ea_x / 200000.0 + 100000 AS INTEGER) - 100000) VIRTUAL;
ALTER TABLE observations ADD COLUMN grid200_y INTEGER
    GENERATED ALWAYS AS (CAST(ea_y / 200000.0 + 100000 AS INTEGER) - 100000) VIRTUAL;
ALTER TABLE observations ADD COLUMN grid100_x INTEGER
    GENERATED ALWAYS AS (CAST(ea_x / 100000.0 + 100000 AS INTEGER) - 100000) VIRTUAL;
ALTER TABLE observations ADD COLUMN grid100_y INTEGER
    GENERATED ALWAYS AS (CAST(ea_y / 100000.0 + 100000 AS INTEGER) - 100000) VIRTUAL;
ALTER TABLE observations ADD COLUMN grid50_x INTEGER
    GENERATED ALWAYS AS (CAST(ea_x / 50000.0 + 100000 AS INTEGER) - 100000) VIRTUAL;
ALTER TABLE observations ADD COLUMN grid50_y INTEGER
    GENERATED ALWAYS AS (CAST(ea_y / 50000.0 + 100000 AS INTEGER) - 100000) VIRTUAL;
ALTER TABLE observations ADD COLUMN grid25_x INTEGER
    GENERATED ALWAYS AS (CAST(ea_x / 25000.0 + 100000 AS INTEGER) - 100000) VIRTUAL;
ALTER TABLE observations ADD COLUMN grid25_y INTEGER
    GENERATED ALWAYS AS (CAST(ea_y / 25000.0 + 100000 AS INTEGER) - 100000) VIRTUAL;
-- Keys in group order, then the summed columns, then every column a filter reads
-- (sql_shared.observation_where), so a filtered map is still read from the index alone.
CREATE INDEX observations_herd_counts ON observations (
    local_month, population,
    grid200_x, grid200_y, grid100_x, grid100_y, grid50_x, grid50_y, grid25_x, grid25_y,
    count, adult_males, adult_females, yearlings, calves, unclassified,
    status, observed_at, count_method, survey_id, observer, geo_cell, lon, lat
);
