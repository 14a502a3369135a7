#!/usr/bin/env bash
# `make run`: build in release, start the private cluster (unless DATABASE_URL
# is set), import data-samples/ when it changed, serve on GEOKHO_ADDR:GEOKHO_PORT
# (IPv4 and IPv6 loopback by default, as the binary's own default).
# GEOKHO_BIN=path runs that binary instead of building one (tests).
set -euo pipefail
cd "$(dirname "$0")/.."
die() { echo "geokho: $*" >&2; exit 1; }
addr=${GEOKHO_ADDR:-127.0.0.1,::1}
port=${GEOKHO_PORT:-8080}
# Every listen address must be free: the server binds them all.
IFS=',' read -ra addrs <<< "$addr"
for a in "${addrs[@]}"; do
  a=${a// /}
  probe=$a
  case "$a" in 0.0.0.0) probe=127.0.0.1 ;; ::) probe=::1 ;; esac
  if (exec 3<>"/dev/tcp/$probe/$port") 2>/dev/null; then
    die "port $port on $a is already in use: stop that program or run GEOKHO_PORT=<free port> make run"
  fi
done
if [ -n "${GEOKHO_BIN:-}" ]; then
  bin=$GEOKHO_BIN
else
  command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) and re-run"
  # cargo's own progress: the first build takes minutes.
  cargo build --release --locked || die "the build failed (see above)"
  bin=./target/release/geokho
fi
scripts/web-deps.sh || echo "geokho: the map viewer at / will lack MapLibre until that is fixed; tiles and /catalog work" >&2
if [ -z "${DATABASE_URL:-}" ]; then
  scripts/pg.sh start .pg "${GEOKHO_PG_PORT:-55432}"
  export DATABASE_URL="postgres://postgres@127.0.0.1:${GEOKHO_PG_PORT:-55432}/geokho"
  echo "private PostGIS cluster in .pg on port ${GEOKHO_PG_PORT:-55432} (make stop stops it)"
fi
"$bin" import --manifest data-samples/layers.toml --if-changed
export GEOKHO_ADDR="$addr" GEOKHO_PORT="$port"
exec "$bin" serve
