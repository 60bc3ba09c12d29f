"""The domain: records, errors and calendars every other package shares (no I/O, no HTTP)."""
