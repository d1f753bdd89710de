"""Outcome parsing, one small pure module per tool: what a use produced, as content-free counts."""
