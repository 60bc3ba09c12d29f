-- Strip-transect design of a survey (strata: area, transects, strip width).
ALTER TABLE surveys ADD COLUMN strata jsonb;
