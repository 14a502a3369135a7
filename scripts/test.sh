#!/usr/bin/env bash
# `make test`: a throwaway cluster on GEOKHO_TEST_PG_PORT, then every test of
# the workspace against it, schemathesis against the OpenAPI document, and the
# importer's shp2pgsql oracle; the cluster is stopped whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${GEOKHO_TEST_PG_PORT:-55433}
dir=target/pg-test
command -v cargo >/dev/null || { echo "geokho: cargo not found: install Rust" >&2; exit 1; }
scripts/web-deps.sh
scripts/pg.sh start "$dir" "$port" --throwaway
trap 'scripts/pg.sh stop "$dir"' EXIT
# The protomaps PMTiles reader, an independent check of our exports.
python3 -c "import pmtiles" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check pmtiles==3.8.1
export GEOKHO_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
cargo fmt --all -- --check || { echo "geokho: code is not formatted: run make fmt" >&2; exit 1; }
cargo clippy --workspace --all-targets --locked -q -- -D warnings
cargo test --workspace --locked "$@"
# schemathesis against /api (the binary cargo test just built, the cluster's own database).
GEOKHO_BIN=target/debug/geokho scripts/schemathesis.sh "postgres://postgres@127.0.0.1:$port/geokho"
scripts/oracle.sh
