#!/usr/bin/env bash
# A/B of geokho binaries' imports on one running cluster: each binary in
# turn, ROUNDS times, imports the same parcel shapefile as one layer and
# prints wall-clock seconds, the binary's own CPU and PostgreSQL's CPU
# (the whole cluster, exited backends included: bench/queries/cpu.py), and
# the phase times of GEOKHO_LOG=importer=debug. On a noisy 2-core host only
# alternating runs compare builds; one run compares nothing.
#   bench/import/ab.sh SHP BIN_A BIN_B [BIN ...]      (DATABASE_URL: the cluster)
# Environment: ROUNDS (3), PGDATA_PID_FILE (the cluster's postmaster.pid,
# for its CPU; default target/pg-bench/postmaster.pid).
set -euo pipefail
cd "$(dirname "$0")/../.."
shp=${1:?usage: ab.sh SHP BIN_A BIN_B [BIN ...]}; shift
: "${DATABASE_URL:?DATABASE_URL names the cluster}"
pidfile=${PGDATA_PID_FILE:-target/pg-bench/postmaster.pid}
pm=$(head -1 "$pidfile")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in $(seq "${ROUNDS:-3}"); do
  for bin in "$@"; do
    psql -X -q "$DATABASE_URL" -c CHECKPOINT
    c0=$(python3 bench/queries/cpu.py "$pm"); t0=$(date +%s.%N)
    GEOKHO_LOG=importer=debug /usr/bin/time -f '%U %S' -o "$out/time" \
      "$bin" import "$shp" --layer ab_parcels --kind parcels > "$out/log" 2>&1
    t1=$(date +%s.%N); c1=$(python3 bench/queries/cpu.py "$pm")
    phases=$(sed 's/\x1b\[[0-9;]*m//g' "$out/log" | grep -oE '(finish: [a-zA-Z ]+|read, derived and copied).*seconds=[0-9.]+' \
      | sed -E 's/finish: //; s/ layer=.*seconds=/=/; s/ seconds=/=/' | awk -F= '{printf "%s %.2f; ", $1, $2}')
    python3 - "$round" "$bin" "$t0" "$t1" "$c0" "$c1" "$(cat "$out/time")" "$phases" <<'PY'
import sys
r, b, t0, t1, c0, c1, tool, phases = sys.argv[1:]
u, s = map(float, tool.split())
print(f"round {r} {b}: {float(t1) - float(t0):.2f} s wall, tool CPU {u + s:.2f} s, "
      f"PostgreSQL CPU {float(c1) - float(c0):.2f} s | {phases}")
PY
  done
done
