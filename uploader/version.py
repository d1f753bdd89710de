"""The installed agent's version, as uploads and enrollment report it.

Its own module so that building records needs no HTTP library: an agent with nothing to upload
never loads one (bench/README.md, File collectors: start-up memory).
"""

from __future__ import annotations


def agent_version() -> str:
    """The installed aitally version; 0.0.0 when running from an uninstalled tree."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("aitally")
    except PackageNotFoundError:
        return "0.0.0"
