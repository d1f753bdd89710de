"""The uploader: shapes usage records by the privacy policy and uploads them from the outbox."""
