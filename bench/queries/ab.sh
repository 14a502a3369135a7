#!/usr/bin/env bash
# A/B of geokho binaries on a cluster kept by run.sh (KEEP_PG=1): nearest-10
# warehouses and parcel at point, 32 in flight (tileload), each binary in
# turn; prints p50/p99, answer bytes and geokho CPU per request
# (/proc/PID/stat). Latencies on a shared machine move with its load; the
# CPU per request is the steadier figure.
#   bench/queries/ab.sh BIN_A BIN_B [BIN_A BIN_B ...]
# Environment: GEOKHO_BENCH_PG_PORT (55470), GEOKHO_BENCH_AB_PORT (18479).
set -u
cd "$(dirname "$0")/../.."
pgport=${GEOKHO_BENCH_PG_PORT:-55470}
port=${GEOKHO_BENCH_AB_PORT:-18479}
L=target/tileload/release/tileload
out=target/bench/queries
for q in near parcel_at; do
  sed -E "s#http://127.0.0.1:[0-9]+#http://127.0.0.1:$port#" "$out/urls-$q.txt" > "$out/ab-urls-$q.txt"
done
cpu() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
for bin in "$@"; do
  DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/geokho" GEOKHO_LOG=warn \
    GEOKHO_RATE_IP=1000000000 GEOKHO_RATE_KEY=1000000000 "$bin" serve --port "$port" > /dev/null 2>&1 &
  pid=$!
  for _ in $(seq 50); do curl -fs -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.2; done
  for q in near parcel_at; do
    "$L" "$out/ab-urls-$q.txt" --concurrency 32 --label warm > /dev/null
    passes=3; [ "$q" = parcel_at ] && passes=8
    c0=$(cpu "$pid"); l0=$(cut -d' ' -f1 /proc/loadavg)
    r=$("$L" "$out/ab-urls-$q.txt" --concurrency 32 --passes "$passes" --label "$q")
    c1=$(cpu "$pid"); l1=$(cut -d' ' -f1 /proc/loadavg)
    python3 - "$r" "$bin" "$q" "$c0" "$c1" "$l0" "$l1" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); b, q, c0, c1, l0, l1 = sys.argv[2:]
cpu = (float(c1) - float(c0)) * 1000 / r["requests"]
print(f"{b} {q}: p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, {r['req_per_s']:.0f} req/s, "
      f"{r['mean_bytes']:.0f} bytes/answer, geokho CPU {cpu:.3f} ms/request, load {l0}/{l1}")
PY
  done
  kill "$pid"; wait "$pid" 2>/dev/null
done
