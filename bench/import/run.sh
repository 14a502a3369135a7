#!/usr/bin/env bash
# Import benchmark (not a timed test): the sample province with PARCELS parcels
# in one shapefile, loaded in ONE run on ONE throwaway cluster by
#   geokho import        (stage, validation + repair, Web Mercator copy, generalised
#                         columns, GiST indexes, ANALYZE, atomic publish)
#   ogr2ogr at its best  (COPY, -gt 100000, PROMOTE_TO_MULTI, GiST index)
#   shp2pgsql -D -I | psql
#   raw COPY ceiling     (the same rows as binary COPY into an UNLOGGED table, no
#                         validation, no index: 1 stream and 2 parallel streams)
# and prints wall-clock seconds, the ratios and geokho's peak RSS (also at 250k).
# After each tool its table is VACUUMed (timed apart), so that autovacuum of
# one tool's table does not run while the next one is timed.
#   usage: bench/import/run.sh            PARCELS=1000000 by default
# Prints wall-clock seconds and CPU seconds (the tool + PostgreSQL) per tool.
# The release binary is taken from $CARGO_TARGET_DIR (default target/); the
# cluster folder, its port and the output folder can be moved with
# GEOKHO_BENCH_PG_DIR, GEOKHO_BENCH_PG_PORT and GEOKHO_BENCH_OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${PARCELS:-1000000}
SMALL=${PARCELS_SMALL:-250000}
port=${GEOKHO_BENCH_PG_PORT:-55450}
pgdir=${GEOKHO_BENCH_PG_DIR:-target/pg-bench}
out=${GEOKHO_BENCH_OUT:-target/bench}
for t in ogr2ogr shp2pgsql psql /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "bench: $t missing: run scripts/install-deps.sh (and apt-get install time)" >&2; exit 1; }
done
cargo build --release --locked --bin geokho >&2
bin=${CARGO_TARGET_DIR:-target}/release/geokho

province() {  # province N -> the parcel .shp of a generated province of N parcels
  local d="$out/province-$1"
  if [ ! -f "$d/.done" ]; then
    rm -rf "$d"
    "$bin" samples --out "$d" --parcels "$1" --one-parcel-file >&2
    touch "$d/.done"
  fi
  find "$d/thua_dat" -name '*.shp' | sort | head -1
}
shp=$(province "$N")
small=$(province "$SMALL")

scripts/pg.sh start "$pgdir" "$port" --throwaway
trap 'scripts/pg.sh stop "$pgdir"' EXIT
url="postgres://postgres@127.0.0.1:$port/geokho"
export DATABASE_URL=$url
psql -X -q "$url" -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
cat "$shp" "${shp%.shp}.dbf" >/dev/null   # same warm page cache for every tool
# A fresh cluster creates (zero-fills) its WAL segments on first use, later
# tools reuse them: write ~1.3 GB of WAL first so that no tool pays for it.
psql -X -q "$url" -c "CREATE TABLE wal_warmup AS SELECT g, repeat('x', 500) AS t FROM generate_series(1, 2500000) g" \
  -c "DROP TABLE wal_warmup" -c "CHECKPOINT"

now() { date +%s.%N; }
# CPU seconds of the whole cluster so far (postmaster, live backends, and the
# backends that have exited: bench/queries/cpu.py), so each tool's share of
# PostgreSQL's work is the difference around its run. With the tool's own
# CPU (/usr/bin/time) this gives a comparison that does not depend on what
# else the machine is doing.
pm=$(head -1 "$pgdir/postmaster.pid")
pgcpu() { python3 bench/queries/cpu.py "$pm"; }
toolcpu() { awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {printf "%.2f", u + s}' "$1"; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
log=$out/import-bench.log
: > "$log"

rss() {  # rss PARCEL_SHP LAYER -> "seconds peak_kib"
  local t0 t1 f=$out/time-$2.txt
  # 1-minute load average every 2 s while geokho runs (the machine is shared).
  ( while sleep 2; do cut -d' ' -f1 /proc/loadavg; done ) > "$out/load-$2.txt" & local sampler=$!
  local c0 c1
  c0=$(pgcpu); t0=$(now)
  GEOKHO_LOG=importer=debug /usr/bin/time -v -o "$f" "$bin" import "$1" --layer "$2" --kind parcels >"$out/log-$2.txt" 2>&1
  cat "$out/log-$2.txt" >>"$log"
  t1=$(now); c1=$(pgcpu)
  kill "$sampler"
  echo "$(secs "$t0" "$t1") $(awk -F': ' '/Maximum resident/ {print $2}' "$f") $(toolcpu "$f") $(secs "$c0" "$c1")"
}

# VACUUM of a tool's table right after it: the work autovacuum would
# otherwise do later (hint bits, visibility map, freezing), possibly while
# the next tool is being timed. Reported apart, not added to the import.
vac() { local t0 t1; t0=$(now); psql -X -q "$url" -c "VACUUM $1"; t1=$(now); secs "$t0" "$t1"; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "geokho import of $SMALL parcels (memory check)..." >&2
read -r t_small rss_small _ _ < <(rss "$small" bench_small)
echo "geokho import of $N parcels..." >&2
read -r t_geokho rss_big cpu_geokho pg_geokho < <(rss "$shp" thua_dat)
features=$(psql -X -tAc "SELECT count(*) FROM geokho_data.thua_dat" "$url")
# geokho's load phase alone (read, validate, derive both geometry columns,
# COPY into the logged stage table), from its debug log: the part of the
# import that does what the raw COPY ceiling does.
t_load=$(sed 's/\x1b\[[0-9;]*m//g' "$out/log-thua_dat.txt" | grep -oE 'read, derived and copied.*seconds=[0-9.]+' | sed 's/.*seconds=//' | head -1)
v_geokho=$(vac geokho_data.thua_dat)

echo "ogr2ogr..." >&2
c0=$(pgcpu); t0=$(now)
/usr/bin/time -v -o "$out/time-ogr2ogr.txt" ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$port user=postgres dbname=geokho" "$shp" \
  -nln ogr_thua_dat -lco GEOMETRY_NAME=geom -nlt PROMOTE_TO_MULTI -gt 100000 \
  --config PG_USE_COPY YES -lco SPATIAL_INDEX=GIST >>"$log" 2>&1
t1=$(now); c1=$(pgcpu); t_ogr=$(secs "$t0" "$t1")
cpu_ogr=$(toolcpu "$out/time-ogr2ogr.txt"); pg_ogr=$(secs "$c0" "$c1")
v_ogr=$(vac ogr_thua_dat)

echo "shp2pgsql..." >&2
c0=$(pgcpu); t0=$(now)
S2P_SHP=$shp S2P_URL=$url /usr/bin/time -v -o "$out/time-shp2pgsql.txt" bash -c \
  'shp2pgsql -D -s 9210 -I "$S2P_SHP" s2p_thua_dat | psql -X -q -v ON_ERROR_STOP=1 "$S2P_URL"' >>"$log" 2>&1
t1=$(now); c1=$(pgcpu); t_s2p=$(secs "$t0" "$t1")
cpu_s2p=$(toolcpu "$out/time-shp2pgsql.txt"); pg_s2p=$(secs "$c0" "$c1")
v_s2p=$(vac s2p_thua_dat)

echo "raw COPY ceiling..." >&2
cols=$(psql -X -tAc "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) FROM information_schema.columns \
  WHERE table_schema = 'geokho_data' AND table_name = 'thua_dat' AND column_name NOT LIKE 'geom_3857%' AND column_name <> 'zmin'" "$url")
psql -X -q "$url" -c "CREATE UNLOGGED TABLE raw_copy AS SELECT $cols FROM geokho_data.thua_dat WITH NO DATA" \
  -c "CREATE UNLOGGED TABLE raw_copy2 AS SELECT * FROM raw_copy WITH NO DATA"
half=$((features / 2))
rows=$(realpath -m "$out/raw-rows.bin")
psql -X -q "$url" -c "\\copy (SELECT $cols FROM geokho_data.thua_dat ORDER BY fid) TO '$rows' (FORMAT binary)" \
  -c "\\copy (SELECT $cols FROM geokho_data.thua_dat WHERE fid <= $half ORDER BY fid) TO '$rows.a' (FORMAT binary)" \
  -c "\\copy (SELECT $cols FROM geokho_data.thua_dat WHERE fid > $half ORDER BY fid) TO '$rows.b' (FORMAT binary)"
cat "$rows" "$rows.a" "$rows.b" >/dev/null
c0=$(pgcpu); t0=$(now)
psql -X -q "$url" -c "\\copy raw_copy FROM '$rows' (FORMAT binary)"
t1=$(now); c1=$(pgcpu); t_copy1=$(secs "$t0" "$t1"); pg_copy1=$(secs "$c0" "$c1")
t0=$(now)
psql -X -q "$url" -c "\\copy raw_copy2 FROM '$rows.a' (FORMAT binary)" & p1=$!
psql -X -q "$url" -c "\\copy raw_copy2 FROM '$rows.b' (FORMAT binary)" & p2=$!
wait $p1 $p2
t1=$(now); t_copy2=$(secs "$t0" "$t1")
rm -f "$rows" "$rows.a" "$rows.b"
t_copy=$(python3 -c "print(min($t_copy1, $t_copy2))")

load_end=$(cut -d' ' -f1-3 /proc/loadavg)
n_ogr=$(psql -X -tAc "SELECT count(*) FROM ogr_thua_dat" "$url")
n_s2p=$(psql -X -tAc "SELECT count(*) FROM s2p_thua_dat" "$url")
n_raw=$(psql -X -tAc "SELECT count(*) FROM raw_copy" "$url")
BENCH_OUT=$out python3 - "$N" "$features" "$t_geokho" "$t_ogr" "$t_s2p" "$t_copy1" "$t_copy2" "$t_copy" \
  "$rss_small" "$rss_big" "$SMALL" "$t_small" "$n_ogr" "$n_s2p" "$n_raw" "$load_start" "$load_end" \
  "$cpu_geokho" "$pg_geokho" "$cpu_ogr" "$pg_ogr" "$cpu_s2p" "$pg_s2p" "$pg_copy1" \
  "$v_geokho" "$v_ogr" "$v_s2p" "${t_load:-0}" <<'PY'
import sys
(N, feats, g, o, s, c1, c2, c, rs, rb, small, ts, no, ns, nr, ls, le,
 cg, pgg, co, pgo, cs, pgs, pgc, vg, vo, vs, tl) = sys.argv[1:]
g, o, s, c1, c2, c, ts = map(float, (g, o, s, c1, c2, c, ts))
cg, pgg, co, pgo, cs, pgs, pgc = map(float, (cg, pgg, co, pgo, cs, pgs, pgc))
print(f"\nImport of {feats} parcels (target PARCELS={N}), one shapefile, same cluster, same run")
print(f"{'tool':<44} {'seconds':>8} {'rows':>9}   VACUUM after (s)")
print(f"{'geokho import (all work, published)':<44} {g:>8.2f} {feats:>9}   {vg}")
print(f"{'ogr2ogr (COPY, -gt 100000, GiST)':<44} {o:>8.2f} {no:>9}   {vo}")
print(f"{'shp2pgsql -D -I | psql':<44} {s:>8.2f} {ns:>9}   {vs}")
print(f"{'raw binary COPY, UNLOGGED, 1 stream':<44} {c1:>8.2f} {nr:>9}")
print(f"{'raw binary COPY, UNLOGGED, 2 streams':<44} {c2:>8.2f} {nr:>9}")
print(f"\nogr2ogr / geokho wall-clock: {o / g:.2f}x (target >= 3x)")
print(f"shp2pgsql / geokho wall-clock: {s / g:.2f}x")
print(f"raw COPY ceiling / geokho: {c / g:.0%} of the ceiling (target >= 70%)")
if float(tl) > 0:
    print(f"raw COPY ceiling / geokho's load phase alone ({float(tl):.2f} s: read, validate, both geometry"
          f" columns, logged COPY; no indexes, ANALYZE or publish): {c / float(tl):.0%}")
print(f"load average (1, 5, 15 min): {ls} at the start, {le} at the end")
try:
    import os
    loads = [float(x) for x in open(f"{os.environ['BENCH_OUT']}/load-thua_dat.txt").read().split()]
    if loads:
        print(f"1-min load average during geokho's {N}-parcel import: mean {sum(loads) / len(loads):.1f}, max {max(loads):.1f}")
except OSError:
    pass
print(f"geokho peak RSS: {int(rs) / 1024:.0f} MiB at {small} parcels ({ts:.2f} s), {int(rb) / 1024:.0f} MiB at {N}")
print("\nCPU seconds (the tool's processes + PostgreSQL's, all backends), independent of other load:")
print(f"{'tool':<44} {'tool':>7} {'pg':>7} {'total':>7}")
for name, t, p in (("geokho import", cg, pgg), ("ogr2ogr", co, pgo), ("shp2pgsql | psql", cs, pgs),
                   ("raw COPY, 1 stream (psql)", 0.0, pgc)):
    print(f"{name:<44} {t:>7.2f} {p:>7.2f} {t + p:>7.2f}")
print(f"ogr2ogr / geokho by CPU: {(co + pgo) / (cg + pgg):.2f}x; raw COPY / geokho by CPU: {pgc / (cg + pgg):.0%}")
PY
