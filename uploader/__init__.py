"""aitally.uploader package."""
