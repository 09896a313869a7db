#!/bin/sh
# Entrypoint of deploy/docker/postgres.Dockerfile. At the first start (no PG_VERSION in
# $PGDATA): initdb with the superuser password from POSTGRES_PASSWORD_FILE, listen on every
# interface with scram-sha-256 for network clients, run /docker-entrypoint-initdb.d/*.sh and
# *.sql against a server that listens on its Unix socket only, stop it. Then exec postgres.
set -eu
: "${PGDATA:?PGDATA must be set}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=postgres}"
export POSTGRES_USER POSTGRES_DB

# Written after the init scripts succeeded: a data directory without it is a failed first start.
done_marker="$PGDATA/fluxel-initdb.done"
if [ -s "$PGDATA/PG_VERSION" ] && [ ! -e "$done_marker" ]; then
  echo "postgres-entrypoint: $PGDATA holds a first start that did not finish (an init script failed): empty the volume and start again" >&2
  exit 1
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD_FILE:-}" ] || [ ! -r "$POSTGRES_PASSWORD_FILE" ]; then
    echo "postgres-entrypoint: set POSTGRES_PASSWORD_FILE to a readable file (the superuser password)" >&2
    exit 1
  fi
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of flags
  initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$POSTGRES_PASSWORD_FILE" ${POSTGRES_INITDB_ARGS:-}
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) echo "postgres-entrypoint: running $f"; sh "$f" ;;
      *.sql) echo "postgres-entrypoint: running $f"; psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f "$f" ;;
      *) ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  touch "$done_marker"
fi

if [ "${1:-}" = postgres ]; then
  shift
  exec postgres -D "$PGDATA" "$@"
fi
exec "$@"
