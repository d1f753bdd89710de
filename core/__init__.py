"""aitally.core: what every part shares; imports nothing else of aitally."""
