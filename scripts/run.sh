#!/usr/bin/env bash
# `make run`: build in release, start the private cluster (unless DATABASE_URL
# is set), import data-samples/ when it changed, serve on GEOKHO_ADDR:GEOKHO_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "geokho: $*" >&2; exit 1; }
addr=${GEOKHO_ADDR:-127.0.0.1}
port=${GEOKHO_PORT:-8080}
command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) and re-run"
if (exec 3<>"/dev/tcp/$addr/$port") 2>/dev/null; then
  die "port $port on $addr is already in use: stop that program or run GEOKHO_PORT=<free port> make run"
fi
cargo build --release --locked -q || die "the build failed (see above)"
scripts/web-deps.sh || echo "geokho: the map viewer at / will lack MapLibre until that is fixed; tiles and /catalog work" >&2
if [ -z "${DATABASE_URL:-}" ]; then
  scripts/pg.sh start .pg "${GEOKHO_PG_PORT:-55432}"
  export DATABASE_URL="postgres://postgres@127.0.0.1:${GEOKHO_PG_PORT:-55432}/geokho"
  echo "private PostGIS cluster in .pg on port ${GEOKHO_PG_PORT:-55432} (make stop stops it)"
fi
./target/release/geokho import --manifest data-samples/layers.toml --if-changed
export GEOKHO_ADDR="$addr" GEOKHO_PORT="$port"
exec ./target/release/geokho serve
