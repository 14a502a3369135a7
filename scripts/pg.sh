#!/usr/bin/env bash
# A private PostgreSQL 15 + PostGIS + pgRouting cluster in a folder of the repo, no systemd.
#   scripts/pg.sh start DIR PORT [--throwaway]   init if needed, start, create database "geokho"
#   scripts/pg.sh standby DIR PORT PRIMARY_PORT   a fresh streaming standby of the cluster on
#                                                  PRIMARY_PORT (pg_basebackup -R), started (tests)
#   scripts/pg.sh stop DIR
# --throwaway: wipe DIR first and run without fsync (tests, benchmarks; never real data).
# As root the server runs as the "postgres" user (PostgreSQL refuses root).
set -euo pipefail
cmd=${1:?usage: pg.sh start|stop DIR [PORT] [--throwaway]}
dir=${2:?data folder}
port=${3:-55432}
throwaway=${4:-}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
die() { echo "geokho: $*" >&2; exit 1; }

[ -x "$PGBIN/pg_ctl" ] || die "PostgreSQL 15 is not installed ($PGBIN/pg_ctl missing): run scripts/install-deps.sh"
mkdir -p "$(dirname "$dir")"
dir=$(realpath -m "$dir")

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# As root the server runs as "postgres", which must be able to reach the folder.
# When a parent folder is closed to it (e.g. a repo under /root), the data lives
# under /var/tmp and the repo folder is a symlink to it.
prepare_dir() {
  if [ "$(id -u)" != 0 ]; then mkdir -p "$dir"; return; fi
  id postgres >/dev/null 2>&1 || die "user 'postgres' missing: run scripts/install-deps.sh"
  if [ -L "$dir" ]; then mkdir -p "$(readlink "$dir")"; chown postgres "$(readlink "$dir")"; return; fi
  mkdir -p "$dir"
  chown postgres "$dir"
  if ! runuser -u postgres -- test -w "$dir"; then
    rmdir "$dir" 2>/dev/null || true
    local real="/var/tmp/geokho-pg-$(echo "$dir" | sha1sum | cut -c1-12)"
    mkdir -p "$real" && chown postgres "$real" && chmod 700 "$real"
    ln -sfn "$real" "$dir"
  fi
}

wipe() {
  as_pg "$PGBIN/pg_ctl" -D "$dir" -m immediate stop >/dev/null 2>&1 || true
  if [ -L "$dir" ]; then rm -rf "$(readlink "$dir")"; fi
  rm -rf "$dir"
}

port_free() {
  if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null || (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
    die "port $port is in use by another program: set GEOKHO_PG_PORT=<free port>"
  fi
}

launch() {
  opts="-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB -c max_parallel_workers_per_gather=2"
  [ "$throwaway" = --throwaway ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  as_pg "$PGBIN/pg_ctl" -D "$dir" -l "$dir/server.log" -o "$opts" -w -t 60 start >/dev/null \
    || die "PostgreSQL did not start; see $dir/server.log"
}

case "$cmd" in
  standby)
    primary_port=${4:?usage: pg.sh standby DIR PORT PRIMARY_PORT}
    throwaway=--throwaway
    wipe
    prepare_dir
    port_free
    as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U postgres -D "$dir" -R -X stream -c fast \
      >"$dir.basebackup.log" 2>&1 || die "pg_basebackup from port $primary_port failed, see $dir.basebackup.log"
    rm -f "$dir.basebackup.log"
    as_pg chmod 700 "$dir"
    launch
    ;;
  start)
    if [ "$throwaway" = --throwaway ] && [ -e "$dir" ]; then
      wipe
    fi
    prepare_dir
    if [ ! -f "$dir/PG_VERSION" ]; then
      as_pg "$PGBIN/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir.initdb.log" 2>&1 \
        || die "initdb failed, see $dir.initdb.log"
      rm -f "$dir.initdb.log"
    fi
    if as_pg "$PGBIN/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
      running_port=$(sed -n 4p "$dir/postmaster.pid" 2>/dev/null || echo "")
      [ "$running_port" = "$port" ] || die "the cluster in $dir already runs on port $running_port, not $port: run 'make stop' first"
    else
      port_free
      launch
    fi
    if ! "$PGBIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'geokho'" | grep -q 1; then
      "$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres geokho
    fi
    ;;
  stop)
    if [ -e "$dir/PG_VERSION" ]; then as_pg "$PGBIN/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true; fi
    ;;
  *) die "usage: pg.sh start|standby|stop DIR [PORT] [--throwaway | PRIMARY_PORT]";;
esac
