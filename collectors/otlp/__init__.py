"""The local OTLP/HTTP receiver: the AI tools' own telemetry, reduced to usage by an allowlist."""
