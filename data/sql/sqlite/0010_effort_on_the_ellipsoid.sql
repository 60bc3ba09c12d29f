-- Survey effort in km was measured in EPSG:3576, 3-5 % off at 56-62° N. No schema change:
-- once this is applied, the store measures every stored survey's km again on the ellipsoid
-- (data/sql_store.py, SQLStore._remeasure_survey_km), in the same transaction.
SELECT 1;
