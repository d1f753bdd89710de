"""One adapter per AI tool's local data format; each turns bytes into content-free observations."""
