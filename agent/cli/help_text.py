"""The example shown in each `aitally` subcommand's `--help` (core.cli_help puts it there), so
`aitally COMMAND --help` answers "what is this, and how do I call it"."""

from __future__ import annotations

# One runnable example per command (nested commands by their full name; "": `aitally` itself).
EXAMPLES = {
    "": "aitally stats",
    "run": "aitally run --once",
    "demo": "aitally demo",
    "status": "aitally status --check || echo 'agent not running'",
    "config": "aitally config show",
    "config show": "aitally config show --json",
    "sessions": "aitally sessions --tool claude-code --since 7d",
    "stats": "aitally stats --by model --since 30d",
    "preview": "aitally preview --json",
    "upload": "aitally upload --json",
    "dashboard": "aitally dashboard --no-browser",
    "export": "aitally export --format csv --since 2026-01-01 -o usage.csv",
    "pause": "aitally pause 2h",
    "resume": "aitally resume",
    "install": "aitally install --endpoint https://aitally.example --enroll-secret-file s.txt",
    "uninstall": "aitally uninstall --purge",
    "enroll": "aitally enroll --endpoint https://aitally.example --enroll-secret-file s.txt",
    "doctor": "aitally doctor --json",
    "policy": "aitally policy template --format toml",
    "otlp-headers": "aitally otlp-headers",
    "policy template": "aitally policy template --format admx --output ./admx",
}
