#!/usr/bin/env bash
# Soak (a script, not a CI test): SOAK_SECONDS (600) of mixed load at a fixed
# RATE (100 requests/s) against `geokho serve` (release) on the sample
# province: tiles (z12-z16, some filtered), OGC API Features pages, parcel
# look-ups, warehouse searches, routes, catalog/TileJSON. Passes when no
# request fails (non-2xx/3xx other than 404 on purpose, or a transport error)
# and the server's RSS stays flat: the median of the last minute within 10% of
# the median of the second minute (after warm-up).
#
#   bench/soak/run.sh            # results in target/bench/soak/, summary on stdout
#
# Environment: SOAK_SECONDS, RATE, GEOKHO_SOAK_PG_PORT (55475), GEOKHO_SOAK_PORT (18190).
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${SOAK_SECONDS:-600}
rate=${RATE:-100}
pgport=${GEOKHO_SOAK_PG_PORT:-55475}
port=${GEOKHO_SOAK_PORT:-18190}
pgdir=target/pg-soak
out=target/bench/soak
mkdir -p "$out"
url="postgres://postgres@127.0.0.1:$pgport/geokho"
cargo build --release --locked --bin geokho >&2
scripts/pg.sh start "$pgdir" "$pgport" --throwaway >&2
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; scripts/pg.sh stop "$pgdir" >&2; }
trap cleanup EXIT
DATABASE_URL=$url GEOKHO_LOG=warn target/release/geokho import --manifest data-samples/layers.toml \
  --rejects-dir "$out/rejects" >"$out/import.log"
DATABASE_URL=$url GEOKHO_LOG=warn target/release/geokho serve --addr 127.0.0.1 --port "$port" \
  --rate-ip 100000 2>"$out/server.log" &
server=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done
python3 bench/soak/load.py --base "http://127.0.0.1:$port" --pid "$server" --seconds "$secs" \
  --rate "$rate" --database-url "$url" --out "$out/result.json"
