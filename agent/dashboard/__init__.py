"""The local dashboard: a loopback-only web page of the engineer's own usage and what leaves."""
