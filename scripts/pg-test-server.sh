#!/usr/bin/env bash
# A throw-away PostgreSQL + PostGIS server for the test suite (issue 4).
#   scripts/pg-test-server.sh start   → installs Debian's postgresql + postgis if missing (root),
#                                        starts a server on 127.0.0.1:$PGTEST_PORT as user
#                                        postgres, creates database spatial_test with PostGIS,
#                                        prints its URL
#   scripts/pg-test-server.sh stop    → stops it and deletes its data
set -euo pipefail
PORT="${PGTEST_PORT:-55432}"
ROOT="${PGTEST_DIR:-/tmp/spatial-pgtest-$PORT}"
URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/spatial_test"

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && echo "$dir"
}

as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi
}

start() {
  if [ -z "$(pg_bin)" ] || ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "PostgreSQL/PostGIS missing: run as root, or apt-get install postgresql postgis" >&2
      exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    # the server first; then the PostGIS extension for that server's major version, named
    # explicitly: Debian's `postgis` package only *recommends* it, so with
    # --no-install-recommends `CREATE EXTENSION postgis` would fail on a fresh machine
    apt-get install -y -q --no-install-recommends postgresql >/dev/null
    local major; major=$(basename "$(dirname "$(pg_bin)")")
    apt-get install -y -q --no-install-recommends "postgresql-$major-postgis-3" >/dev/null
  fi
  if ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then
    echo "PostGIS extension missing after install (postgresql-<major>-postgis-3)" >&2
    exit 1
  fi
  local bin; bin=$(pg_bin)
  stop >/dev/null 2>&1 || true
  mkdir -p "$ROOT"
  chown postgres "$ROOT"
  as_postgres "$bin/initdb" -D "$ROOT/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  as_postgres "$bin/pg_ctl" -D "$ROOT/data" -l "$ROOT/log" -w \
    -o "-p $PORT -k $ROOT -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
  as_postgres "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -q -c "CREATE DATABASE spatial_test" >/dev/null
  as_postgres "$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d spatial_test -q \
    -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null
  echo "$URL"
}

stop() {
  local bin; bin=$(pg_bin) || true
  if [ -n "${bin:-}" ] && [ -d "$ROOT/data" ]; then
    as_postgres "$bin/pg_ctl" -D "$ROOT/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$ROOT"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
