"""The central ingest service: enrollment, idempotent batch ingest, storage, reports."""
