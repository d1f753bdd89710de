"""aitally.agent package."""
