#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, in a directory of its own.
#
#   scripts/pg-test-cluster.sh start [DIR]   creates DIR (default: a new /tmp/pastiche-pg.XXXXXX),
#                                            initialises a cluster in DIR/data, starts it listening
#                                            only on a Unix socket in DIR, creates the database
#                                            "pastiche" and prints its URL on stdout
#   scripts/pg-test-cluster.sh stop DIR      stops the cluster and removes DIR
#
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` account that
# Debian's package creates (or `pastiche-pg`, created here when there is none), which owns DIR.
# Connections are trusted (the socket is reachable only through DIR, mode 0700, and by root).
# The cluster trades durability for speed (fsync off): it is for tests only.
# PG_BIN overrides where initdb/pg_ctl are (default: the newest /usr/lib/postgresql/*/bin).
set -euo pipefail

usage() {
  echo "usage: $0 start [DIR] | stop DIR" >&2
  exit 2
}

pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    echo "pg-test-cluster: PostgreSQL server binaries not found (apt-get install postgresql," \
      "or set PG_BIN)" >&2
    exit 1
  fi
  echo "$bin"
}

# The account the server runs as: the current user, or a non-root one when we are root.
server_user() {
  if [ "$(id -u)" -ne 0 ]; then id -un; return; fi
  if id postgres >/dev/null 2>&1; then echo postgres; return; fi
  if ! id pastiche-pg >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin pastiche-pg
  fi
  echo pastiche-pg
}

as_user() {
  local user=$1
  shift
  if [ "$(id -un)" = "$user" ]; then "$@"; else runuser -u "$user" -- "$@"; fi
}

start() {
  local dir=${1:-}
  if [ -z "$dir" ]; then dir=$(mktemp -d /tmp/pastiche-pg.XXXXXX); fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -e "$dir/data" ]; then
    echo "pg-test-cluster: $dir/data exists already (stop that cluster first)" >&2
    exit 1
  fi
  # The socket's path must fit in 107 bytes.
  if [ "${#dir}" -gt 80 ]; then
    echo "pg-test-cluster: '$dir' is too long a path for a Unix socket" >&2
    exit 1
  fi
  local bin user port=5432
  bin=$(pg_bin)
  user=$(server_user)
  chown "$user" "$dir"
  chmod 0700 "$dir"
  as_user "$user" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }
  # Only the socket in $dir: no TCP port, so clusters of concurrent runs never collide.
  as_user "$user" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -c unix_socket_directories='$dir' -c port=$port -c fsync=off \
-c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null || {
    cat "$dir/server.log" >&2
    exit 1
  }
  as_user "$user" "$bin/createdb" -h "$dir" -p "$port" -U postgres pastiche
  echo "postgresql:///pastiche?host=$dir&port=$port&user=postgres"
}

stop() {
  local dir=${1:-}
  [ -n "$dir" ] || usage
  [ -d "$dir" ] || return 0
  if [ -f "$dir/data/postmaster.pid" ]; then
    local bin owner
    bin=$(pg_bin)
    owner=$(stat -c %U "$dir/data")
    as_user "$owner" "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) usage ;;
esac
