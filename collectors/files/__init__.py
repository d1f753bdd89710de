"""File-activity collectors: watch each AI tool's local data and tail it into observations."""
