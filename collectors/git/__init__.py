"""Commits with AI read from the git repository an AI tool session works in."""
