#!/usr/bin/env bash
# Runs before `npm start` / `npm test`: installs dependencies on a fresh clone, or when the lock file
# changed since the last install, so the two README commands work on a machine that never saw the project.
set -euo pipefail
cd "$(dirname "$0")/.."
marker=node_modules/.package-lock.json
if [ ! -f "$marker" ] || [ package-lock.json -nt "$marker" ]; then
  echo "[cs] installing npm dependencies (npm ci)…" >&2
  npm ci --no-fund --no-audit
fi
