"""The data layer: record types, the store interface, its SQLite and PostGIS backends."""
