-- Strip-transect design of a survey (strata: area, transects, strip width), as JSON text.
ALTER TABLE surveys ADD COLUMN strata TEXT;
