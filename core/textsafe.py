"""Text that leaves aitally for another program: CSV cells never start a formula.

Shared by the agent's export (`agent/reports.py`) and the ingest's central reports
(`ingest/reports.py`); standard library only, as every module the ingest takes from core.
"""

from __future__ import annotations

# A cell starting with one of these is a formula to spreadsheet apps (or becomes one once
# a leading tab or carriage return is trimmed).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """value, with a string that would start a formula quoted out of formula position."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value
