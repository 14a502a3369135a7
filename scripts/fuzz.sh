#!/usr/bin/env bash
# `make fuzz`: the property tests with a long budget (PROPTEST_CASES, default
# 20000; `make test` runs them with a CI-sized one): damaged shapefiles and
# random bytes through the importer's readers and encoding detector, random
# CQL2 through the filter compiler, random bbox/filter/layer strings over HTTP
# (a throwaway cluster on GEOKHO_FUZZ_PG_PORT, default 55438).
set -euo pipefail
cd "$(dirname "$0")/.."
export PROPTEST_CASES=${PROPTEST_CASES:-20000}
port=${GEOKHO_FUZZ_PG_PORT:-55438}
dir=target/pg-fuzz
cargo test --locked -p importer --test it fuzz::
cargo test --locked -p sqlfilter --test fuzz_filter
scripts/pg.sh start "$dir" "$port" --throwaway
trap 'scripts/pg.sh stop "$dir"' EXIT
# HTTP cases are slower: a tenth of the budget.
PROPTEST_CASES=$((PROPTEST_CASES / 10)) GEOKHO_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres" \
  cargo test --locked --test it injection::
