"""The real-client recording harness (`make realclients`, README.md beside this file).

Installs pinned versions of Claude Code, Codex, Gemini CLI and Copilot CLI from npm, runs them
offline against loopback stand-ins of their model APIs (`standin.py`) and writes what they
record, with the stand-ins' true usage, as fixtures under `tests/fixtures/realclients/`.
"""
