"""The agent's local SQLite store: connection, schema and the named queries of each table."""

from aitally.core.store.connection import Store, ensure_writable_dir, open_existing

__all__ = ["Store", "ensure_writable_dir", "open_existing"]
