#!/usr/bin/env bash
# Installs the viewer's npm packages (MapLibre GL JS; playwright-core for the
# browser test) into web/node_modules with `npm ci`, when they are missing or
# older than web/package-lock.json. Fails with one line when npm is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=web/node_modules/.geokho-installed
if [ -f "$stamp" ] && [ ! web/package-lock.json -nt "$stamp" ]; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
  echo "geokho: npm not found: install Node.js 20+ with npm (e.g. apt-get install nodejs npm) to get the map viewer's packages" >&2
  exit 1
fi
echo "geokho: installing the map viewer's npm packages (npm ci --prefix web)" >&2
if ! npm ci --prefix web --no-audit --no-fund --loglevel=error >/dev/null; then
  echo "geokho: npm ci in web/ failed (no access to the npm registry?); retry, or run: npm ci --prefix web" >&2
  exit 1
fi
touch "$stamp"
