"""aitally.ingest package."""
