"""aitally.installer package."""
