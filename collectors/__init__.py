"""aitally.collectors package."""
