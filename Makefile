# geokho: `make run` serves the sample province on http://127.0.0.1:8080;
# `make test` runs every test against a throwaway PostGIS cluster.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

GEOKHO_PG_PORT ?= 55432
GEOKHO_TEST_PG_PORT ?= 55433
export GEOKHO_PG_PORT GEOKHO_TEST_PG_PORT

.PHONY: run test stop deps build samples lint fmt clean-db

## Install missing system packages, build, start the private cluster, import, serve.
run: deps
	@scripts/run.sh

## Build and run all tests against a throwaway cluster (port $(GEOKHO_TEST_PG_PORT)).
test:
	@GEOKHO_BROWSER=1 scripts/install-deps.sh
	@scripts/test.sh

## Stop the private cluster started by `make run`.
stop:
	@scripts/pg.sh stop .pg
	@echo "cluster stopped"

deps:
	@scripts/install-deps.sh

build: deps
	cargo build --release --locked

## Regenerate data-samples/ (deterministic; the output is committed).
samples:
	cargo run --release --locked -- samples --out data-samples

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all

## Delete the private cluster's data (after `make stop`).
clean-db: stop
	rm -rf .pg

.PHONY: oracle
## The importer's outside oracle: every shapefile of PostGIS's loader suite and pyshp's edge cases vs shp2pgsql.
oracle: deps
	@scripts/oracle.sh

.PHONY: api-fuzz
## Schemathesis against the OpenAPI document at /api: no generated request may get a 5xx (throwaway cluster on port 55436).
api-fuzz: deps
	@scripts/schemathesis.sh

.PHONY: fuzz
## Property tests with a long budget (PROPTEST_CASES=20000): shapefile/DBF readers, encodings, CQL2, bbox, layer names.
fuzz: deps
	@scripts/fuzz.sh
