"""The error types a person can act on: each str() is one line naming the problem and the fix.

The command lines print such an error on one line and exit with status 2; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """Base of the errors below; the CLIs catch it, print it and exit 2."""


class ConfigError(UserFacingError):
    """A bad configuration file, key or value."""


class StoreError(UserFacingError):
    """The store cannot be used (unwritable folder, newer schema); str() names the path."""


class TimeRangeError(UserFacingError, ValueError):
    """A --since/--until value that is not a date aitally understands."""


class UsageError(UserFacingError):
    """Bad arguments found after parsing."""
