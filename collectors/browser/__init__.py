"""The browser collector: AI web services used in a browser tab, seen host-only in the
browsers' local history (Chromium family, Firefox, Safari)."""
