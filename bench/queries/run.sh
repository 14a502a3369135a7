#!/usr/bin/env bash
# Query benchmark (not a timed test): geokho's land and logistics look-ups over
# HTTP beside the same SQL run straight through pgbench (the database
# ceiling), in ONE run on ONE private PostgreSQL cluster holding the sample
# province with PARCELS parcels (one shapefile) and WAREHOUSES warehouses.
#
#   bench/queries/run.sh               # PARCELS=1000000 WAREHOUSES=10000, 32 concurrent
#
# Queries (fixed, deterministic lists: make.py, from the province's extent):
#   parcel_at  GET /land/parcels/at?lon=&lat=              POINTS points spread evenly
#   near       GET /logistics/warehouses/near?lon=&lat=&limit=10   the same points
#   planning   GET /land/parcels/{fid}/planning             FIDS parcel ids
#   route      GET /logistics/route?from=&to=&weight=20     PAIRS pairs of points near
#                                                           opposite sides of the province
# The pgbench scripts (make.py) run the statements the server runs for each
# request (features/src/land.rs, logistics.rs, snap.rs, network.rs,
# routing.rs; a route is one read-only transaction whose later statements use
# the earlier ones' results: \gset), drawing from the same lists.
# Before measuring, check_sql.py compares, on one entry of each list, the
# statements and parameter values the server logs with those pgbench logs
# (log_min_duration_statement=0 for that moment); the run stops if they
# differ (ALLOW_SQL_DIFF=1 to go on).
#
# Per query: an untimed API pass over its list (warms PostgreSQL and the OS
# cache, and sizes the timed run), then the API timed: tileload (bench/tiles)
# with CONCURRENCY requests in flight over keep-alive connections,
# `Accept-Encoding: gzip`, as many passes over the list as fill about
# DURATION/ROUNDS seconds; then `pgbench -n -M prepared -c CONCURRENCY -j 2
# -T DURATION/ROUNDS -r -l`; ROUNDS times, alternating
# (for parcel_at and planning with PGOPTIONS='-c plan_cache_mode=force_generic_plan',
# the setting of the server's look-up connections).
# p50/p99 from tileload's per-request times and pgbench's per-transaction
# log; CPU seconds of PostgreSQL, geokho and the load tools during each side;
# then EXPLAIN (ANALYZE, BUFFERS) of each query's statements (explain.txt).
# Output in target/bench/queries/: summary.md, api-*.json, per-url-*.tsv,
# pgbench-*.txt / .log*, cpu-*.txt, sql-check.txt, explain.txt.
#
# Environment: PARCELS (1000000), WAREHOUSES (10000), CONCURRENCY (32),
# DURATION (30: seconds per side, in ROUNDS (3) alternating rounds), POINTS (5000), PAIRS (200), FIDS (5000), QUERIES (all four),
# POOL_SIZE (geokho's pool, 16 = its default), GEOKHO_BIN (a geokho binary to
# measure instead of building target/release), GEOKHO_BENCH_PG_PORT (55470),
# GEOKHO_BENCH_PG_DIR (target/pg-queries), GEOKHO_BENCH_PORT (18470),
# SQL_CHECK_SKIP ("route near parcel_at": queries whose SQL is not compared),
# KEEP_PG=1 to leave the cluster running, REUSE=1 to reuse a running cluster
# that already holds this province (development; the default is a fresh
# throwaway cluster and import).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${PARCELS:-1000000}
WH=${WAREHOUSES:-10000}
C=${CONCURRENCY:-32}
SECS=${DURATION:-30}
ROUNDS=${ROUNDS:-3}
POINTS=${POINTS:-5000}
PAIRS=${PAIRS:-200}
FIDS=${FIDS:-5000}
QUERIES=${QUERIES:-parcel_at near planning route}
POOL_SIZE=${POOL_SIZE:-16}
pgport=${GEOKHO_BENCH_PG_PORT:-55470}
pgdir=${GEOKHO_BENCH_PG_DIR:-target/pg-queries}
gport=${GEOKHO_BENCH_PORT:-18470}
out=target/bench/queries
data=target/bench/queries-province
url="postgres://postgres@127.0.0.1:$pgport/geokho"
export DATABASE_URL=$url
mkdir -p "$out"
log() { echo "[queries-bench $(date +%T)] $*" >&2; }
t_start=$(date +%s)

for t in psql pgbench python3 curl /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "bench: $t missing: run scripts/install-deps.sh (and apt-get install time)" >&2; exit 1; }
done
if [ -n "${GEOKHO_BIN:-}" ]; then
  cp "$GEOKHO_BIN" "$out/geokho"
else
  cargo build --release --locked --bin geokho >&2
  # A private copy: other builds of target/release during the run do not change what we measure.
  cp target/release/geokho "$out/geokho"
fi
CARGO_TARGET_DIR=target/tileload cargo build --release --manifest-path bench/tiles/tileload/Cargo.toml >&2
bin=$out/geokho
load=target/tileload/release/tileload

# --- province, cluster, import --------------------------------------------------
if [ ! -f "$data/.done" ] || [ "$(cat "$data/.done")" != "$N $WH" ]; then
  rm -rf "$data"
  log "generating the province ($N parcels, $WH warehouses)"
  "$bin" samples --out "$data" --parcels "$N" --one-parcel-file --warehouses "$WH" >&2
  echo "$N $WH" > "$data/.done"
fi
q() { psql -X -qtA "$url" -c "$1"; }
if [ "${REUSE:-0}" = 1 ] && [ "$(cat "$out/imported" 2>/dev/null)" = "$N $WH" ] \
   && q "SELECT 1" >/dev/null 2>&1; then
  log "REUSE=1: using the running cluster on $pgport"
else
  scripts/pg.sh start "$pgdir" "$pgport" --throwaway
  rm -f "$out/imported"
fi
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  { q "ALTER SYSTEM RESET log_min_duration_statement" && q "ALTER SYSTEM RESET log_line_prefix" \
    && q "SELECT pg_reload_conf()"; } >/dev/null 2>&1 || true
  if [ "${KEEP_PG:-0}" != 1 ]; then scripts/pg.sh stop "$pgdir"; fi
}
trap cleanup EXIT
if [ ! -f "$out/imported" ]; then
  log "importing (slow)"
  /usr/bin/time -f "import: %e s, peak RSS %M KiB" -o "$out/import-time.txt" "$bin" import --manifest "$data/layers.toml" >&2
  cat "$out/import-time.txt" >&2
  # As a database in service: visibility map and hint bits set, statistics fresh.
  psql -X -q "$url" -c "VACUUM (ANALYZE)" >&2
  echo "$N $WH" > "$out/imported"
fi
q "SELECT name, kind, feature_count FROM geokho.layers ORDER BY name" >&2

# --- lists and scripts ----------------------------------------------------------
read -r x0 y0 x1 y1 < <(q "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM
  (SELECT ST_Extent(ST_Transform(geom, 4326)) e FROM geokho_data.ranh_gioi) s" | tr '|' ' ')
max_fid=$(q "SELECT max(fid) FROM geokho_data.thua_dat")
python3 bench/queries/make.py "$out" "http://127.0.0.1:$gport" "$x0" "$y0" "$x1" "$y1" "$max_fid" "$POINTS" "$PAIRS" "$FIDS"
# The values the route's statements take from the server's code (network.rs):
# the pgRouting edges query, and the closed edges for a 20 t truck (what the
# bridges query returns, sorted as the server sends them).
edges_sql='SELECT id, source, target, cost_s AS cost, reverse_cost_s AS reverse_cost FROM "geokho_data"."duong_bo__edges" WHERE geom && (SELECT current_setting('"'geokho.route_box'"')::geometry) AND id NOT IN (SELECT unnest(current_setting('"'geokho.route_closed'"')::int8[]))'
all_box='SRID=9210;POLYGON((-1e15 -1e15,-1e15 1e15,1e15 1e15,1e15 -1e15,-1e15 -1e15))'
closed=$(q "SELECT '{' || coalesce(string_agg(id::text, ',' ORDER BY id), '') || '}' FROM (SELECT DISTINCT e.id
  FROM geokho_data.cau b JOIN geokho_data.duong_bo__edges e ON ST_DWithin(e.geom, ST_Transform(b.geom, 9210), 5)
  WHERE b.tai_trong < 20) s")
log "extent $x0 $y0 $x1 $y1, max fid $max_fid, edges closed at 20 t: $closed"
# pgbench on the cluster with the route's variables: pgbench "${pgb[@]}" -f SCRIPT ...
pgb=(-h 127.0.0.1 -p "$pgport" -U postgres -n -M prepared
     -D "edges_sql=$edges_sql" -D "closed=$closed" -D "all_box=$all_box")

nl=$(wc -l < "$out/lists.expected")
pgbench "${pgb[@]}" -f "$out/lists.pgbench" -D n=0 -c 1 -t $((nl / 7)) geokho 2> "$out/lists.got" > /dev/null
python3 bench/queries/make.py --compare "$out/lists.expected" "$out/lists.got" | tee "$out/lists-check.txt" >&2

# --- server ---------------------------------------------------------------------
# One load generator on one address: the per-address rate limit (429 over
# 200 req/s) is lifted, as for the tile benchmark.
GEOKHO_LOG=warn GEOKHO_DB_POOL=$POOL_SIZE GEOKHO_RATE_IP=1000000000 GEOKHO_RATE_KEY=1000000000 \
  "$bin" serve --port "$gport" > "$out/geokho.log" 2>&1 &
gpid=$!; pids+=("$gpid")
for _ in $(seq 1 300); do curl -fs -o /dev/null "http://127.0.0.1:$gport/health" && break; sleep 0.2; done
curl -fs -o /dev/null "http://127.0.0.1:$gport/health" || { echo "bench: geokho did not come up, see $out/geokho.log" >&2; exit 1; }

# --- the same SQL? ----------------------------------------------------------------
log "checking the pgbench scripts against the server's statement log"
# One entry of each list per answer the server gives (the first with 200, the
# first with 404 if any: for a route, a 404 is the search that found no way
# for a 20 t truck, and runs other statements); found before logging starts.
status() { curl -s -o /dev/null -w '%{http_code}' "$1"; }
checks=()
for qq in $QUERIES; do
  declare -A seen=()
  idx=0
  while read -r u && [ "$idx" -lt 50 ]; do
    idx=$((idx + 1))
    st=$(status "$u")
    if [ -z "${seen[$st]:-}" ] && { [ "$st" = 200 ] || [ "$st" = 404 ]; }; then
      seen[$st]=1; checks+=("$qq $idx $st")
    fi
  done < "$out/urls-$qq.txt"
  unset seen
done
q "ALTER SYSTEM SET log_min_duration_statement = 0" >/dev/null
q "ALTER SYSTEM SET log_line_prefix = '%m [%p] %a: '" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
sleep 0.5
from=$(wc -c < "$pgdir/server.log")
for c in "${checks[@]}"; do
  read -r qq idx st <<< "$c"
  q "SELECT 'queries-bench:${qq}_${idx}_$st'" >/dev/null
  curl -s -o /dev/null "$(sed -n "${idx}p" "$out/urls-$qq.txt")"
  sleep 0.3   # the route's ROLLBACK is sent when the connection returns to the pool
  sed -E "s/^\\\\set (i|j|k) random\\(1, [0-9]+\\)\$/\\\\set \\1 $idx/" "$out/$qq.pgbench" > "$out/check-$qq.pgbench"
  pgbench "${pgb[@]}" -f "$out/check-$qq.pgbench" -c 1 -t 1 geokho > /dev/null 2>&1 || true
done
q "ALTER SYSTEM RESET log_min_duration_statement" >/dev/null
q "ALTER SYSTEM RESET log_line_prefix" >/dev/null
q "SELECT pg_reload_conf()" >/dev/null
tail -c +"$((from + 1))" "$pgdir/server.log" > "$out/sql-check.log"
# The route, near and parcel_at are not compared by default: the server
# searches its in-memory road graph, warehouse index and parcel boxes,
# pgbench runs the SQL of the old design (pgRouting; the KNN scan the server
# still runs for layers it does not index; the GiST search it still runs for
# a point no parcel box holds, while parcel_at's server statements read the
# candidates by primary key). SQL_CHECK_SKIP="" compares a build from before them.
if ! (cd bench/queries && SQL_CHECK_SKIP=${SQL_CHECK_SKIP-route near parcel_at} python3 check_sql.py "../../$out/sql-check.log") | tee "$out/sql-check.txt" >&2; then
  [ "${ALLOW_SQL_DIFF:-0}" = 1 ] || { echo "bench: the pgbench scripts do not run the server's SQL (see $out/sql-check.txt); fix make.py" >&2; exit 1; }
fi

# --- measurements -----------------------------------------------------------------
# The server runs land look-ups on sessions that always use generic plans
# (catalog::generic_plan_pool); pgbench's sessions for them do the same.
session_options() {
  case $1 in parcel_at|planning) echo "-c plan_cache_mode=force_generic_plan" ;; *) echo "" ;; esac
}
cpu() { python3 bench/queries/cpu.py "$@"; }
pm=$(head -1 "$pgdir/postmaster.pid")
loadavg() { cut -d' ' -f1 /proc/loadavg; }
# "steal total" ticks of all CPUs: the time the host ran others while this
# machine had work (a run with much steal measured a slower machine).
steal() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print $9, t }' /proc/stat; }
conditions=$out/conditions.txt
{ echo "start $(date -u +%FT%TZ), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
  echo "other benchmarks running: $(pgrep -fa 'bench/(tiles|import)/run.sh' | tr '\n' ';' || true)"
  echo "busiest processes at start:"; ps -eo pcpu,etime,comm --sort=-pcpu | head -8; } > "$conditions"
for qq in $QUERIES; do
  urls=$out/urls-$qq.txt
  n=$(wc -l < "$urls")
  log "$qq: untimed API pass over $n requests"
  warm=$("$load" "$urls" --concurrency "$C" --label "$qq/warm")
  log "$warm"
  # ROUNDS rounds of API then pgbench, SECS/ROUNDS seconds each: a change in
  # how much CPU the host gives this machine hits both sides alike.
  per=$(( (SECS + ROUNDS - 1) / ROUNDS ))
  passes=$(python3 -c "import json; r = json.loads('''$warm'''); print(max(1, round($per * r['req_per_s'] / $n)))")
  rm -f "$out/pgbench-$qq".* "$out/api-$qq".* "$out/per-url-$qq".* "$out/cpu-$qq".*
  for r in $(seq 1 "$ROUNDS"); do
    log "$qq round $r/$ROUNDS: API, $passes passes (about $per s)"
    l0=$(loadavg); p0=$(cpu "$pm"); g0=$(cpu "$gpid"); s0=$(steal)
    /usr/bin/time -f "%U %S" -o "$out/time-api-$qq.txt" \
      "$load" "$urls" --concurrency "$C" --passes "$passes" --label "$qq/api" --per-url "$out/per-url-$qq.r$r.tsv" > "$out/api-$qq.r$r.json"
    p1=$(cpu "$pm"); g1=$(cpu "$gpid"); l1=$(loadavg); s1=$(steal)
    log "$(cat "$out/api-$qq.r$r.json")"
    log "$qq round $r/$ROUNDS: pgbench -c $C -j 2 -T $per"
    p2=$(cpu "$pm"); s2=$(steal)
    PGOPTIONS=$(session_options "$qq") /usr/bin/time -f "%U %S" -o "$out/time-pgb-$qq.txt" \
      pgbench "${pgb[@]}" -f "$out/$qq.pgbench" -c "$C" -j 2 -T "$per" -r -l --log-prefix="$out/pgbench-$qq.r$r.log" geokho \
      > "$out/pgbench-$qq.r$r.txt" 2>&1 || true
    p3=$(cpu "$pm"); l2=$(loadavg); s3=$(steal)
    grep -E "tps|latency average|failed|abort" "$out/pgbench-$qq.r$r.txt" >&2 || true
    python3 - "$out/cpu-$qq.r$r.txt" "$p0" "$p1" "$g0" "$g1" "$p2" "$p3" "$l0" "$l1" "$l2" \
      "$out/time-api-$qq.txt" "$out/time-pgb-$qq.txt" "$s0" "$s1" "$s2" "$s3" <<'PY'
import sys
f, p0, p1, g0, g1, p2, p3, l0, l1, l2 = sys.argv[1:11]
ta = sum(map(float, open(sys.argv[11]).read().splitlines()[-1].split()))  # "user system" (last line)
tp = sum(map(float, open(sys.argv[12]).read().splitlines()[-1].split()))
with open(f, "w") as o:
    o.write(f"api_pg {float(p1) - float(p0):.2f}\napi_geokho {float(g1) - float(g0):.2f}\napi_load {ta:.2f}\n")
    o.write(f"pgb_pg {float(p3) - float(p2):.2f}\npgb_load {tp:.2f}\n")
    o.write(f"load_api {max(float(l0), float(l1)):.2f}\nload_pgb {float(l2):.2f}\n")
    (a0, b0), (a1, b1), (a2, b2), (a3, b3) = (map(int, x.split()) for x in sys.argv[13:17])
    o.write(f"steal_api {100 * (a1 - a0) / max(b1 - b0, 1):.1f}\nsteal_pgb {100 * (a3 - a2) / max(b3 - b2, 1):.1f}\n")
PY
  done
done
echo "end $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)" >> "$conditions"

# --- EXPLAIN ANALYZE of the server's statements (one request per query) ------------
(cd bench/queries && python3 explain.py "../../$out/sql-check.log") > "$out/explain.sql"
psql -X -q "$url" -f "$out/explain.sql" > "$out/explain.txt" 2>&1 || true

# --- summary ------------------------------------------------------------------------
{
  echo "Query benchmark: $(q "SELECT feature_count FROM geokho.layers WHERE name = 'thua_dat'") parcels, $(q "SELECT feature_count FROM geokho.layers WHERE name = 'kho_bai'") warehouses, $(q "SELECT count(*) FROM geokho_data.duong_bo__edges") road edges; concurrency $C, ~${SECS} s per side; geokho pool $POOL_SIZE"
  echo
  python3 bench/queries/summary.py "$out" $QUERIES
  echo
  sed 's/^/    /' "$conditions"
  echo
  echo "SQL check: $(tr '\n' ';' < "$out/sql-check.txt") $(cat "$out/lists-check.txt")"
  echo "script time: $(( $(date +%s) - t_start )) s$( [ -f "$out/import-time.txt" ] && echo ", $(cat "$out/import-time.txt")")"
} | tee "$out/summary.md"
