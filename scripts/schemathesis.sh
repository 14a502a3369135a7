#!/usr/bin/env bash
# API fuzzing (`make api-fuzz`): schemathesis generates requests from geokho's
# own OpenAPI document (GET /api) and fails on any server error (5xx).
#
#   scripts/schemathesis.sh [DATABASE_URL]
#
# 1. installs schemathesis $ST_VERSION into a private venv (target/venv-schemathesis; PyPI once);
# 2. builds target/debug/geokho (`cargo build --locked --bin geokho`), unless
#    GEOKHO_BIN names a binary to use instead (e.g. the one `cargo test` just built);
# 3. imports data-samples/ into DATABASE_URL. The run writes to that database
#    (layers re-imported, citizen reports POSTed): give it a throwaway database,
#    never real data. Without DATABASE_URL a throwaway cluster is started in
#    target/pg-schemathesis on GEOKHO_ST_PG_PORT (55436) and stopped at the end;
# 4. serves on a free 127.0.0.1 port, waits for /health, runs `st run` against
#    http://127.0.0.1:PORT/api with the check not_a_server_error, a fixed seed
#    and a bounded number of examples per operation, on loopback only;
# 5. stops the server and exits non-zero when schemathesis found a failure.
#
# Knobs: GEOKHO_ST_EXAMPLES (examples per operation, default 150), GEOKHO_ST_SEED
# (default 20261122), GEOKHO_ST_TIMEOUT (hard limit of the run in seconds, 600),
# GEOKHO_ST_CHECKS (default not_a_server_error; `all` for every conformance check).
# Output (report, server log, import log) goes to target/schemathesis/.
# A failure prints a curl command that reproduces it; the server log's errors follow.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

ST_VERSION=4.32.5
examples=${GEOKHO_ST_EXAMPLES:-150}
seed=${GEOKHO_ST_SEED:-20261122}
limit=${GEOKHO_ST_TIMEOUT:-600}
checks=${GEOKHO_ST_CHECKS:-not_a_server_error}
venv=target/venv-schemathesis
work=target/schemathesis
die() { echo "geokho: $*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 not found: run scripts/install-deps.sh"
start=$(date +%s)

# 1. schemathesis, pinned, in its own venv.
if [ "$("$venv/bin/st" --version 2>/dev/null)" != "st, version $ST_VERSION" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$ST_VERSION" \
    || die "installing schemathesis $ST_VERSION from PyPI failed"
fi

# Everything below talks to 127.0.0.1 only: no proxy for it.
export no_proxy="127.0.0.1,localhost${no_proxy:+,$no_proxy}" NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"

# 2. the binary.
if [ -n "${GEOKHO_BIN:-}" ]; then
  bin=$GEOKHO_BIN
else
  command -v cargo >/dev/null || die "cargo not found: install Rust"
  cargo build --locked --bin geokho -q || die "the build failed (see above)"
  bin=target/debug/geokho
fi
[ -x "$bin" ] || die "$bin is not an executable"
bin=$(realpath "$bin")

rm -rf "$work"
mkdir -p "$work"

# 3. the database and the sample province.
server_pid=
pg_dir=
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -n "$pg_dir" ]; then scripts/pg.sh stop "$pg_dir"; fi
}
trap cleanup EXIT
url=${1:-}
if [ -z "$url" ]; then
  pg_port=${GEOKHO_ST_PG_PORT:-55436}
  pg_dir=target/pg-schemathesis
  scripts/pg.sh start "$pg_dir" "$pg_port" --throwaway
  url="postgres://postgres@127.0.0.1:$pg_port/geokho"
fi
"$bin" --database-url "$url" import --manifest data-samples/layers.toml --rejects-dir "$work/rejects" \
  >"$work/import.log" 2>&1 || { cat "$work/import.log" >&2; die "importing data-samples/ into $url failed"; }

# 4. the server on a free loopback port (the OS picks one; taken again at once).
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
GEOKHO_LOG=${GEOKHO_LOG:-info} "$bin" --database-url "$url" serve --addr 127.0.0.1 --port "$port" --cache-mb 64 \
  >"$work/serve.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
ready=
for _ in $(seq 1 120); do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log" >&2; die "geokho serve exited"; }
  if python3 -c "import sys, urllib.request as u; sys.exit(u.urlopen('$base/health', timeout=2).status != 200)" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.5
done
[ -n "$ready" ] || { cat "$work/serve.log" >&2; die "geokho serve did not answer $base/health within 60 s"; }

# Realistic values (the sample province's layers, parcels, tiles, CRSs, CQL2), valid
# coordinates far from Viet Nam and edge cases of CQL2 and free text, which the
# generator mixes with its own so that requests get past 404 and 400 to the queries.
cat >"$work/schemathesis.toml" <<'EOF'
# Written by scripts/schemathesis.sh; values from data-samples/.
[cache]
enabled = false

[dictionaries.layer]
values = ["thua_dat", "ranh_gioi", "quy_hoach_sdd", "quy_dat", "duong_bo", "cau", "kho_bai", "cang_ben", "phan_anh"]
[dictionaries.layers]
values = ["thua_dat", "duong_bo", "thua_dat,duong_bo", "ranh_gioi,quy_dat,cau", "kho_bai", "phan_anh", "thua_dat,thua_dat"]
[dictionaries.tilejson]
values = ["thua_dat.json", "duong_bo,cau.json", "kho_bai.json", "phan_anh.json"]
[dictionaries.style]
values = ["base.json", "cadastral.json", "planning.json", "logistics.json"]
[dictionaries.ma_xa]
values = ["28261", "2826\u0000"]
[dictionaries.fid]
values = ["1", "2", "100", "5358"]
[dictionaries.small]
values = ["1", "2", "3", "17"]
[dictionaries.z]
values = [10, 12, 14, 16]
[dictionaries.tx]
values = [814, 3257, 13031, 52127]
[dictionaries.ty]
values = ["482.mvt", "1929.mvt", "7718.mvt", "30875.mvt", "7718.pbf", "7718"]
[dictionaries.lon]
values = [106.3454, 106.36, 106.40, 0.0, 10.0, -75.5, 179.99, -180.0]
[dictionaries.lat]
values = [10.3385, 10.35, 10.36, 0.0, -33.9, 89.99, -90.0]
[dictionaries.x]
values = [565014.18, 566000.0, 0.0, -1e7]
[dictionaries.y]
values = [1143360.0, 1144000.0, 0.0, 1e7]
[dictionaries.srid]
values = [9210, 4326, 3857, 4756, 5897]
[dictionaries.bbox]
values = ["106.3,10.3,106.4,10.4", "10.3,106.3,10.4,106.4", "565000,1143000,567000,1145000", "-180,-90,180,90", "0,0,10,10", "170,-10,-170,10", "106.3,10.3,0,106.4,10.4,10"]
[dictionaries.crs]
values = ["http://www.opengis.net/def/crs/OGC/1.3/CRS84", "http://www.opengis.net/def/crs/EPSG/0/4326", "http://www.opengis.net/def/crs/EPSG/0/3857", "http://www.opengis.net/def/crs/EPSG/0/9210", "http://www.opengis.net/def/crs/EPSG/0/5897"]
[dictionaries.filtercrs]
values = ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
[dictionaries.props]
values = ["ma_xa,so_to", "loai_dat", "dien_tich,dia_chi,ngay_cap", "so_thua", "ten_chu", "dien_tich,so_gcn"]
[dictionaries.filter]
values = ["so_to = 1", "loai_dat = 'ONT' AND dien_tich > 100", "S_INTERSECTS(geometry, POINT(106.3454 10.3385))", "S_INTERSECTS(geometry, POINT(10 0))", "S_WITHIN(geometry, BBOX(-180,-90,180,90))", "dia_chi LIKE 'Khu%'", "ngay_cap > DATE('2020-01-01')", "so_thua IN (1,2,3)", "so_to = 1e400", "ngay_cap > DATE('2020-13-45')", "dia_chi LIKE '%\\'", "dia_chi = 'a\u0000b'", "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 0 0)))", "S_INTERSECTS(geometry, POINT(200 100))", "S_INTERSECTS(geometry, BBOX(0,0,1000,1000))", "{\"op\": \"s_intersects\", \"args\": [{\"property\": \"geometry\"}, {\"type\": \"Point\", \"coordinates\": [10, 0]}]}"]
[dictionaries.filterlang]
values = ["cql2-text", "cql2-json"]
[dictionaries.loai]
values = ["dat_dai", "xay_dung", "moi_truong", "giao_thong", "ha_tang", "khac"]
[dictionaries.text]
values = ["Đường Lê Lợi bị ngập sau mưa", "x", "  ", "a\u0000b", "\u0000", "🙂 ngập", "\u202Eabc", "Ðu\u0300o\u031Bng"]

[parameters]
"query.layer" = { dictionary = "layer", probability = 0.7 }
"path.id" = { dictionary = "layer", probability = 0.8 }
"path.layers" = { dictionary = "layers", probability = 0.8 }
"path.so_to" = { dictionary = "small", probability = 0.6 }
"path.so_thua" = { dictionary = "small", probability = 0.6 }
"path.fid" = { dictionary = "small", probability = 0.6 }
"path.z" = { dictionary = "z", probability = 0.7 }
"path.x" = { dictionary = "tx", probability = 0.7 }
"path.y" = { dictionary = "ty", probability = 0.7 }
"query.lon" = { dictionary = "lon", probability = 0.5 }
"query.lat" = { dictionary = "lat", probability = 0.5 }
"query.x" = { dictionary = "x", probability = 0.5 }
"query.y" = { dictionary = "y", probability = 0.5 }
"query.srid" = { dictionary = "srid", probability = 0.5 }
"query.bbox" = { dictionary = "bbox", probability = 0.5 }
"query.crs" = { dictionary = "crs", probability = 0.8 }
"query.bbox-crs" = { dictionary = "crs", probability = 0.8 }
"query.filter-crs" = { dictionary = "filtercrs", probability = 0.8 }
"query.properties" = { dictionary = "props", probability = 0.6 }
"query.filter" = { dictionary = "filter", probability = 0.7 }
"query.filter-lang" = { dictionary = "filterlang", probability = 0.9 }
"body.loai" = { dictionary = "loai", probability = 0.7 }
"body.lon" = { dictionary = "lon", probability = 0.5 }
"body.lat" = { dictionary = "lat", probability = 0.5 }
"body.noi_dung" = { dictionary = "text", probability = 0.3 }
"query.loai_kho" = { dictionary = "text", probability = 0.2 }
"query.dich_vu" = { dictionary = "text", probability = 0.2 }

[[operations]]
include-path = "/styles/{name}"
parameters = { "path.name" = { dictionary = "style", probability = 0.5 } }

[[operations]]
include-path = "/tiles/{name}"
parameters = { "path.name" = { dictionary = "tilejson", probability = 0.6 } }

[[operations]]
include-path = "/land/parcels/{key}/{so_to}/{so_thua}"
parameters = { "path.key" = { dictionary = "ma_xa", probability = 0.7 } }

[[operations]]
include-path = "/land/parcels/{key}/planning"
parameters = { "path.key" = { dictionary = "fid", probability = 0.7 } }
EOF

# 5. schemathesis, from inside $work (Hypothesis keeps its folder there), with
# proxies ignored so that nothing leaves the machine. Hypothesis's health checks
# judge the data generator's speed, not the server: off, for a loaded CI machine.
echo "schemathesis $ST_VERSION: $base/api, checks $checks, $examples examples per operation, seed $seed"
set +e
(
  cd "$work" &&
  exec env -u http_proxy -u HTTP_PROXY -u https_proxy -u HTTPS_PROXY -u all_proxy -u ALL_PROXY \
    timeout -k 10 "$limit" "$root/$venv/bin/st" --config-file schemathesis.toml run "$base/api" \
      --checks "$checks" \
      --max-examples "$examples" \
      --seed "$seed" \
      --workers 1 \
      --continue-on-failure \
      --request-timeout 30 \
      --suppress-health-check all \
      --generation-database none \
      --generation-unique-inputs \
      --report ndjson --report-ndjson-path report.ndjson \
      --no-color
)
status=$?
set -e

# A one-line summary from the report: requests sent and server errors by operation.
summary=$(python3 - "$work/report.ndjson" <<'EOF' 2>/dev/null || echo "no report"
import collections, json, sys
from urllib.parse import urlsplit
sent, errors = 0, collections.Counter()
for line in open(sys.argv[1]):
    event = json.loads(line)
    if "NonFatalError" in event:  # no answer: connection dropped (a panic?), timeout
        e = event["NonFatalError"]
        errors[f'{e["value"]["type"]} {e.get("label") or ""}'.strip()] += 1
    if "ScenarioFinished" not in event:
        continue
    for interaction in (event["ScenarioFinished"]["recorder"].get("interactions") or {}).values():
        sent += 1
        response = interaction.get("response") or {}
        if (response.get("status_code") or 0) >= 500:
            request = interaction["request"]
            errors[f'{response["status_code"]} {request["method"]} {urlsplit(request["uri"]).path}'] += 1
print(f"{sent} requests, {sum(errors.values())} server errors or unanswered" + "".join(f"; {k} x{n}" for k, n in errors.items()))
EOF
)
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "geokho serve died during the run; its log: $work/serve.log" >&2
  status=1
fi
if [ "$status" != 0 ] && grep -q 'ERROR\|panicked' "$work/serve.log"; then
  echo "--- server errors and panics (from $work/serve.log):"
  { sed 's/\x1b\[[0-9;]*m//g' "$work/serve.log" | grep -A1 'panicked' | grep -v '^--$' | sort -u | head -10; } || true
  { sed 's/\x1b\[[0-9;]*m//g' "$work/serve.log" | grep 'ERROR' | grep -v 'tower_http' | sort -u -k3 | head -20; } || true
fi
took=$(( $(date +%s) - start ))
case "$status" in
  0) echo "api-fuzz: PASS: schemathesis $ST_VERSION, $checks, $summary, ${took}s";;
  124|137) echo "api-fuzz: FAIL: schemathesis did not finish within ${limit}s ($summary)"; exit 1;;
  *) echo "api-fuzz: FAIL: schemathesis $ST_VERSION, $checks, $summary, ${took}s (exit $status; reproduce with the curl commands above)"; exit 1;;
esac
