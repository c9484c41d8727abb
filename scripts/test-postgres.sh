#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback for the test suite and print its URL.
# Installs PostgreSQL with apt when it is missing and apt is usable; prints nothing (and a
# loud warning on stderr) when no PostgreSQL can be had, so the suite skips those tests.
set -u
PORT="${SAMPAN_TEST_PG_PORT:-54329}"
DIR="${SAMPAN_TEST_PG_DIR:-/tmp/sampan-test-pg}"
URL="postgresql+psycopg://sampan@127.0.0.1:${PORT}/sampan_test"

warn() { printf '\n!!! %s\n!!! PostgreSQL tests will be SKIPPED.\n\n' "$1" >&2; }

find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

BIN="$(find_bin)"
if [ -z "$BIN" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing PostgreSQL with apt..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2 \
      || { warn "apt-get install postgresql failed"; exit 0; }
    BIN="$(find_bin)"
  fi
fi
[ -z "$BIN" ] && { warn "PostgreSQL is not installed and apt is not usable here"; exit 0; }

# PostgreSQL refuses to run as root: run it as the 'postgres' system user then.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ -f "$DIR/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  echo "$URL"; exit 0
fi
if [ ! -f "$DIR/PG_VERSION" ]; then
  rm -rf "$DIR"; mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
  as_owner "$BIN/initdb" -D "$DIR" -U sampan --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
    || { warn "initdb failed"; exit 0; }
fi
as_owner "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null || { warn "PostgreSQL did not start (see $DIR/server.log)"; exit 0; }
as_owner "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U sampan -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname='sampan_test'" | grep -q 1 \
  || as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U sampan sampan_test
echo "$URL"
