#!/usr/bin/env bash
# Tile benchmark (not a timed test): geokho serve vs martin 1.14 in ONE run on
# ONE PostgreSQL cluster, both reading the same Web Mercator column
# (geokho_data.<layer>.geom_3857, GiST) of the sample province with PARCELS
# parcels (one shapefile) plus its roads and boundaries.
#
#   bench/tiles/run.sh                 # PARCELS=1000000, 32 concurrent requests
#
# Tile lists (fixed, deterministic: lists.py with seed 42 over features sampled
# by fid), written to target/bench/tiles/:
#   parcels    thua_dat            z12-z18, <= 450 distinct tiles per zoom (>= 2000 in all)
#   parcels14  thua_dat            the z14-z18 tiles of that list (no generalised
#                                  columns; the same features except z14 tiles over
#                                  geokho's 500 KB budget, which it thins)
#   composite  thua_dat,duong_bo   the z12-z18 tiles
#   lowzoom    duong_bo,ranh_gioi  z6-z12 (every tile with data below z12)
# Parcels start at z12 in geokho (empty tiles below; martin would send every
# parcel there), so parcels are compared on z12-z18 and the low zooms on roads
# and boundaries, which both servers serve at every zoom.
#
# For each list: an untimed pass on each server (so PostgreSQL's own caches are
# equally warm for both), then per round and per server (order alternating):
# restart the server (empty tile cache), COLD = first pass over the list,
# WARM = second pass over the same list. Then the raw (identity) tile sizes on
# the same URLs and feature counts of a few z>=14 tiles decoded by GDAL.
# Each timed pass records CPU time (load.txt): of the machine, of the benchmark
# (cluster, server, load tool) and so of other work; the summary gives CPU ms
# per tile of server + PostgreSQL, steadier than req/s on a shared machine.
#
# Environment: PARCELS, ROUNDS (1), LISTS, CONCURRENCY (32), GEOKHO_BENCH_PG_PORT
# (55460), GEOKHO_BENCH_PG_DIR (target/pg-tiles), GEOKHO_BENCH_PORT (18180),
# MARTIN_PORT (18181), MARTIN_BIN (target/martin-bin/bin/martin, from `cargo
# install martin --locked --version 1.14.0 --no-default-features --features
# postgres --root target/martin-bin`: the default `rendering` feature clones
# maplibre-native from GitHub at build time),
# GEOKHO_BIN (a prebuilt geokho instead of `cargo build --release`),
# CACHE_MB (4096, both servers), POOL_SIZE (16, both servers), KEEP_PG=1 to leave
# the cluster running, REIMPORT=1 to start from an empty cluster.
# OVERVIEWS=1: geokho as it runs by default, keeping every layer's overview
# (tiles up to z12) in its tile store, which it fills at its first start; the
# timed passes begin once the store is complete. Default (0): the store is
# emptied and overviews are off, so every cold tile is rendered.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${PARCELS:-1000000}
ROUNDS=${ROUNDS:-1}
C=${CONCURRENCY:-32}
pgport=${GEOKHO_BENCH_PG_PORT:-55460}
pgdir=${GEOKHO_BENCH_PG_DIR:-target/pg-tiles}
gport=${GEOKHO_BENCH_PORT:-18180}
export MARTIN_PORT=${MARTIN_PORT:-18181}
martin=${MARTIN_BIN:-target/martin-bin/bin/martin}
export CACHE_MB=${CACHE_MB:-4096} MARTIN_CACHE_MB=${CACHE_MB:-4096} POOL_SIZE=${POOL_SIZE:-16}
out=target/bench/tiles
data=target/bench/tiles-province
url="postgres://postgres@127.0.0.1:$pgport/geokho"
export DATABASE_URL=$url
mkdir -p "$out"
log() { echo "[tiles-bench $(date +%T)] $*" >&2; }

for t in psql ogrinfo python3 curl bc pgrep; do
  command -v "$t" >/dev/null || { echo "bench: $t missing: run scripts/install-deps.sh" >&2; exit 1; }
done
[ -x "$martin" ] || { echo "bench: $martin missing: cargo install martin --locked --version 1.14.0 --no-default-features --features postgres --root target/martin-bin" >&2; exit 1; }
"$martin" --version >&2
if [ -n "${GEOKHO_BIN:-}" ]; then
  src_bin=$GEOKHO_BIN   # a prebuilt geokho (e.g. to measure an older build)
else
  cargo build --release --locked --bin geokho >&2
  src_bin=target/release/geokho
fi
CARGO_TARGET_DIR=target/tileload cargo build --release --manifest-path bench/tiles/tileload/Cargo.toml >&2
# A private copy: other builds of target/release during the run do not change what we measure.
cp "$src_bin" "$out/geokho.tmp" && mv "$out/geokho.tmp" "$out/geokho"
bin=$out/geokho
load=target/tileload/release/tileload

# --- cluster and data ---------------------------------------------------------
if [ "${REIMPORT:-0}" = 1 ] || [ ! -f "$pgdir/PG_VERSION" ]; then
  scripts/pg.sh start "$pgdir" "$pgport" --throwaway
else
  scripts/pg.sh start "$pgdir" "$pgport"
fi
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ "${KEEP_PG:-0}" != 1 ]; then scripts/pg.sh stop "$pgdir"; fi
}
trap cleanup EXIT
q() { psql -X -qtA "$url" -c "$1"; }
have=$(q "SELECT feature_count FROM geokho.layers WHERE name = 'thua_dat'" 2>/dev/null || true)
# (samples --parcels N writes about N parcels: 1000000 -> 1053507)
if [ -z "$have" ] || [ "$(cat "$out/imported" 2>/dev/null)" != "$N:$have" ]; then
  if [ ! -f "$data/.done" ] || [ "$(cat "$data/.done")" != "$N" ]; then
    rm -rf "$data"
    log "generating the province ($N parcels)"
    "$bin" samples --out "$data" --parcels "$N" --one-parcel-file >&2
    echo "$N" > "$data/.done"
  fi
  log "importing (slow)"
  /usr/bin/time -f "import: %e s, peak RSS %M KiB" "$bin" import --manifest "$data/layers.toml" >&2
  echo "$N:$(q "SELECT feature_count FROM geokho.layers WHERE name = 'thua_dat'")" > "$out/imported"
fi
q "SELECT name, feature_count, minzoom, maxzoom FROM geokho.layers ORDER BY name" >&2
OVERVIEWS=${OVERVIEWS:-0}
stored=$(q "SELECT to_regclass('geokho.tile_store') IS NOT NULL AND EXISTS (SELECT 1 FROM geokho.tile_store)" 2>/dev/null || echo f)
if [ "$OVERVIEWS" != 1 ] && [ "$stored" = t ]; then
  log "geokho.tile_store holds seeded tiles: emptying it (cold must render)"; q "TRUNCATE geokho.tile_store"
fi

# --- tile lists ---------------------------------------------------------------
# Points where the data is: ~2% of parcels (by a hash of fid) and road vertices.
pts() { q "COPY ($1) TO STDOUT"; }
pts "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform(ST_PointOnSurface(geom_3857), 4326) p
     FROM geokho_data.thua_dat WHERE geom_3857 IS NOT NULL AND (fid::bigint * 2654435761) % 1000 < 20) s" > "$out/points-parcels.tsv"
pts "SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Transform((ST_DumpPoints(geom_3857)).geom, 4326) p
     FROM geokho_data.duong_bo WHERE geom_3857 IS NOT NULL) s" > "$out/points-roads.tsv"
python3 bench/tiles/lists.py 12 18 450 42 < "$out/points-parcels.tsv" > "$out/tiles-z12-18.txt"
python3 bench/tiles/lists.py 6 12 300 42 < "$out/points-roads.tsv" > "$out/tiles-z6-12.txt"
grep -E '^1[4-8]/' "$out/tiles-z12-18.txt" > "$out/tiles-z14-18.txt"
mkurls() {  # mkurls TILES LAYERS SERVER -> URL list
  local base
  if [ "$3" = geokho ]; then base="http://127.0.0.1:$gport/tiles/$2"; suf=.mvt; else base="http://127.0.0.1:$MARTIN_PORT/$2"; suf=; fi
  sed "s#^#$base/#; s#\$#$suf#" "$1"
}
declare -A LIST_TILES=([parcels]=tiles-z12-18.txt [parcels14]=tiles-z14-18.txt [composite]=tiles-z12-18.txt [lowzoom]=tiles-z6-12.txt)
declare -A LIST_LAYERS=([parcels]=thua_dat [parcels14]=thua_dat [composite]=thua_dat,duong_bo [lowzoom]=duong_bo,ranh_gioi)
LISTS=${LISTS:-parcels parcels14 composite lowzoom}
for l in $LISTS; do
  for s in geokho martin; do mkurls "$out/${LIST_TILES[$l]}" "${LIST_LAYERS[$l]}" $s > "$out/urls-$l-$s.txt"; done
  log "list $l: $(wc -l < "$out/urls-$l-geokho.txt") distinct tiles of ${LIST_LAYERS[$l]}"
done

# --- servers ------------------------------------------------------------------
declare -A PID
start_geokho() {
  # One load generator on one address: the per-address rate limit (429 over
  # 200 req/s by default) is lifted, as martin has none.
  local no_overview=true
  [ "$OVERVIEWS" = 1 ] && no_overview=false
  GEOKHO_LOG=warn GEOKHO_CACHE_MB=$CACHE_MB GEOKHO_DB_POOL=$POOL_SIZE \
    GEOKHO_RATE_IP=1000000000 GEOKHO_RATE_KEY=1000000000 GEOKHO_NO_OVERVIEW=$no_overview \
    "$bin" serve --port "$gport" > "$out/geokho.log" 2>&1 &
  PID[geokho]=$!; pids+=($!)
  wait_up "http://127.0.0.1:$gport/health"
}
# With OVERVIEWS=1: waits until the tile store stops growing (layers are
# seeded one after another, each within seconds).
wait_overviews() {
  local last=-1 n same=0
  while [ "$same" -lt 3 ]; do
    sleep 4
    n=$(q "SELECT count(*) FROM geokho.tile_store")
    if [ "$n" = "$last" ]; then same=$((same + 1)); else same=0; fi
    last=$n
  done
  log "overviews stored: $n tiles in geokho.tile_store"
}
start_martin() {
  RUST_LOG=warn "$martin" --config bench/tiles/martin.yaml > "$out/martin.log" 2>&1 &
  PID[martin]=$!; pids+=($!)
  wait_up "http://127.0.0.1:$MARTIN_PORT/health"
}
wait_up() {
  for _ in $(seq 1 300); do curl -fs -o /dev/null "$1" && return 0; sleep 0.2; done
  echo "bench: $1 did not come up" >&2; exit 1
}
stop_server() {
  local p=${PID[$1]:-}
  if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; PID[$1]=; fi
}
restart() { stop_server "$1"; "start_$1"; }

results=$out/results.jsonl
: > "$results"
: > "$out/load.txt"
rm -f "$out"/per-url-*.tsv "$out"/sizes-*.tsv "$out"/check-*
# CPU accounting of a pass, to tell the benchmark's own load from other work on
# the machine: busy CPU of the whole machine (/proc/stat) and of the benchmark
# (this cluster's processes, both servers, the load tool), in clock ticks.
tck=$(getconf CLK_TCK)
cpu_busy() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
cpu_bench() {
  local pm
  pm=$(head -1 "$pgdir/postmaster.pid")
  # utime + stime of each process, + cutime + cstime of the postmaster (backends that exited)
  { for p in $(pgrep -P "$pm") ${PID[geokho]:-} ${PID[martin]:-}; do
      sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{print $12 + $13}'
    done
    sed 's/.*) //' "/proc/$pm/stat" | awk '{print $12 + $13 + $14 + $15}'
  } | awk '{s += $1} END {print s + 0}'
}
pass() {  # pass LIST SERVER PHASE ROUND
  local r l0 b0 o0 t0 b1 o1 t1 tl
  l0=$(cut -d' ' -f1 /proc/loadavg); b0=$(cpu_busy); o0=$(cpu_bench); t0=$(date +%s.%N)
  r=$(/usr/bin/time -f "%U %S" -o "$out/tileload.time" \
    "$load" "$out/urls-$1-$2.txt" --concurrency "$C" --label "$1/$2/$3/$4" --per-url "$out/per-url-$1-$2-$3-$4.tsv")
  b1=$(cpu_busy); o1=$(cpu_bench); t1=$(date +%s.%N); tl=$(awk '{print ($1 + $2) * '"$tck"'}' "$out/tileload.time")
  echo "$r" >> "$results"
  # label, 1-min load before/after, wall s, machine busy %, benchmark %, other work % (of all
  # cores), CPU s of server + PostgreSQL, CPU s of the load tool
  awk -v l="$1/$2/$3/$4" -v l0="$l0" -v l1="$(cut -d' ' -f1 /proc/loadavg)" -v b="$((b1 - b0))" \
      -v o="$((o1 - o0))" -v tl="$tl" -v w="$(echo "$t1 - $t0" | bc -l)" -v n="$(nproc)" -v tck="$tck" \
      'BEGIN {cap = w * n * tck; printf "%s %s %s %.2f %.0f %.0f %.0f %.2f %.2f\n", l, l0, l1, w, 100 * b / cap,
              100 * (o + tl) / cap, 100 * (b - o - tl) / cap, o / tck, tl / tck}' \
    >> "$out/load.txt"
  log "$r"
}

start_geokho; start_martin
[ "$OVERVIEWS" = 1 ] && wait_overviews
declare -A WARMED
for l in $LISTS; do
  if [ -z "${WARMED[${LIST_TILES[$l]}]:-}" ]; then  # lists on the same tiles share the pre-warm
    log "list $l: untimed pass on each server (PostgreSQL caches warm for both)"
    for s in geokho martin; do "$load" "$out/urls-$l-$s.txt" --concurrency "$C" --label "$l/$s/prewarm" >&2; done
    WARMED[${LIST_TILES[$l]}]=1
  fi
  for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order="geokho martin"; else order="martin geokho"; fi
    for s in $order; do
      restart "$s"
      pass "$l" "$s" cold "$r"
      pass "$l" "$s" warm "$r"
    done
  done
  # Raw tile sizes (no compression) on the same URLs, from the warm caches.
  for s in geokho martin; do
    "$load" "$out/urls-$l-$s.txt" --concurrency "$C" --identity --label "$l/$s/identity" \
      --per-url "$out/sizes-$l-$s.tsv" >> "$results"
  done
done

# --- feature counts of a few z>=14 tiles, decoded by GDAL ----------------------
check=$out/featurecount.txt
: > "$check"
if [ -f "$out/sizes-composite-geokho.tsv" ]; then
  awk -F'\t' '$1 == 200 && $2 > 0' "$out/sizes-composite-geokho.tsv" | cut -f4 \
    | sed -n 's#.*/tiles/[^/]*/\(1[4-8]\)/\([0-9]*\)/\([0-9]*\)\.mvt#\1 \2 \3#p' | awk 'NR <= 8' > "$out/check-tiles.txt"
  while read -r z x y; do
    for s in geokho martin; do
      if [ $s = geokho ]; then u="http://127.0.0.1:$gport/tiles/thua_dat,duong_bo/$z/$x/$y.mvt"; else u="http://127.0.0.1:$MARTIN_PORT/thua_dat,duong_bo/$z/$x/$y"; fi
      curl -fs -H 'Accept-Encoding: identity' -o "$out/check-$s.mvt" "$u" || : > "$out/check-$s.mvt"
      counts=$(ogrinfo -ro -so -al "MVT:$out/check-$s.mvt" -oo Z="$z" -oo X="$x" -oo Y="$y" 2>/dev/null \
        | awk '/^Layer name:/ {n=$3} /^Feature Count:/ {printf "%s=%s ", n, $3}' || true)
      echo "$z/$x/$y $s $counts" | tee -a "$check" >&2
    done
  done < "$out/check-tiles.txt"
fi

# --- summary -------------------------------------------------------------------
{
  python3 bench/tiles/summary.py "$results" "$check" "$out/load.txt"
  echo
  echo "- machine: $(nproc) cores, $(date -u +%FT%TZ); over the timed passes: 1-min load average $(awk '{print $2; print $3}' "$out/load.txt" | sort -g | sed -n '1p;$p' | paste -sd- -) (the benchmark's own processes included); CPU used by other work on the machine during the passes of 5 s or more: $(awk '$4 >= 5 {print $7}' "$out/load.txt" | sort -g | sed -n '1p;$p' | paste -sd- -) % of all cores (per pass: $out/load.txt)"
  echo "- $("$bin" --version 2>/dev/null || echo "geokho ?"), $("$martin" --version)"
} | tee "$out/summary.md"
