#!/usr/bin/env bash
# Installs system packages the suites use when the machine lacks them (PostgreSQL
# server, headless Chromium; rpm to inspect the built .rpm; fish and zsh to run the generated
# completions; gnupg for signatures). Each is optional: the suites skip with a reason.
set -uo pipefail
need=()
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v rpm >/dev/null 2>&1 || need+=(rpm)
command -v fish >/dev/null 2>&1 || need+=(fish)
command -v zsh >/dev/null 2>&1 || need+=(zsh)
command -v gpg >/dev/null 2>&1 || need+=(gnupg)
if ((${#need[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 || exit 1
fi
