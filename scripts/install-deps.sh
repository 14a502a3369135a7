#!/usr/bin/env bash
# Installs the Debian packages geokho needs (PostgreSQL 15 + PostGIS + pgRouting,
# GDAL/PROJ tools, libgdal-dev and libproj-dev (the importer links GDAL and PROJ;
# proj-sys generates its bindings with bindgen: clang, libclang-dev), Chromium for
# browser tests) when any is missing.
# As root it runs apt-get; otherwise sudo; if neither works it prints the exact command.
set -euo pipefail

PKGS=(postgresql-15 postgresql-15-postgis-3 postgresql-15-pgrouting postgis
      gdal-bin libgdal-dev libsqlite3-dev proj-bin libproj-dev clang libclang-dev pkg-config)
[ "${GEOKHO_BROWSER:-0}" = 1 ] && PKGS+=(chromium)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd=(apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}")
upd=(apt-get -o DPkg::Lock::Timeout=300 update -qq)
if ! command -v apt-get >/dev/null 2>&1; then
  echo "geokho: apt-get not found; install these packages with your package manager: ${missing[*]}" >&2
  exit 1
fi
if [ "$(id -u)" = 0 ]; then run=(); elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then run=(sudo); else
  echo "geokho: missing packages (${missing[*]}); run as root: ${upd[*]} && ${cmd[*]}" >&2
  exit 1
fi
echo "geokho: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${run[@]}" "${upd[@]}" || ! "${run[@]}" "${cmd[@]}" >/dev/null; then
  echo "geokho: apt-get failed (no network to the Debian mirror, or the dpkg lock held for 5 minutes); retry, or run: ${upd[*]} && ${cmd[*]}" >&2
  exit 1
fi
