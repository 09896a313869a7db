#!/bin/sh
# Entrypoint of deploy/docker/postgres.Dockerfile. Three ways to start:
#
# - A primary (the default). At the first start (no PG_VERSION in $PGDATA): initdb with the
#   superuser password from POSTGRES_PASSWORD_FILE, listen on every interface with
#   scram-sha-256 for network clients (and for streaming replication by the role
#   `replicator`), run /docker-entrypoint-initdb.d/*.sh and *.sql against a server that listens
#   on its Unix socket only, stop it. With POSTGRES_SYNCHRONOUS_STANDBY=<name> a commit is
#   acknowledged only once the standby of that application_name has it on disk.
# - A standby (POSTGRES_PRIMARY_HOST set): at the first start, a copy of the primary
#   (pg_basebackup as `replicator`, password from POSTGRES_REPLICATION_PASSWORD_FILE), then it
#   streams from it as a hot standby (application_name POSTGRES_STANDBY_NAME, default standby).
# - A standby promoted (POSTGRES_PROMOTE=1, set by deploy/swarm/failover.sh): a standby's data
#   directory is promoted (pg_ctl promote: a new timeline) before the server starts; from then
#   on it is a primary, also after later restarts.
#
# TLS: with POSTGRES_TLS_CERT_FILE and POSTGRES_TLS_KEY_FILE the server speaks TLS (1.2 at
# least) and a first start accepts network clients over TLS only (`hostssl`); with
# POSTGRES_TLS_CA_FILE a standby verifies its primary's certificate and name (verify-full).
set -eu
: "${PGDATA:?PGDATA must be set}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=postgres}"
export POSTGRES_USER POSTGRES_DB

say() { echo "postgres-entrypoint: $*" >&2; }

tls=
if [ -n "${POSTGRES_TLS_CERT_FILE:-}" ] || [ -n "${POSTGRES_TLS_KEY_FILE:-}" ]; then
  if [ ! -r "${POSTGRES_TLS_CERT_FILE:-}" ] || [ ! -r "${POSTGRES_TLS_KEY_FILE:-}" ]; then
    say "set both POSTGRES_TLS_CERT_FILE and POSTGRES_TLS_KEY_FILE to readable files (the key owned by uid 999, mode 0400)"
    exit 1
  fi
  tls=1
fi
# How a standby connects to its primary: verified TLS when it has the CA.
if [ -n "${POSTGRES_TLS_CA_FILE:-}" ]; then
  primary_ssl="sslmode=verify-full sslrootcert=$POSTGRES_TLS_CA_FILE"
else
  primary_ssl="sslmode=prefer"
fi

# The replication password as a pgpass file outside the data volume (written at every start,
# read by pg_basebackup and by the standby's walreceiver; never on a command line).
passfile=/var/run/postgresql/replication.pgpass
write_passfile() {
  if [ -z "${POSTGRES_REPLICATION_PASSWORD_FILE:-}" ] || [ ! -r "$POSTGRES_REPLICATION_PASSWORD_FILE" ]; then
    say "set POSTGRES_REPLICATION_PASSWORD_FILE to a readable file (the replicator role's password)"
    exit 1
  fi
  umask 077
  printf '*:*:*:replicator:%s\n' "$(sed 's/[\\:]/\\&/g' "$POSTGRES_REPLICATION_PASSWORD_FILE")" >"$passfile"
  umask 022
}

# Written after the init scripts succeeded: a data directory without it is a failed first start
# (a standby's copy carries the primary's).
done_marker="$PGDATA/fluxel-initdb.done"
if [ -s "$PGDATA/PG_VERSION" ] && [ ! -e "$done_marker" ]; then
  say "$PGDATA holds a first start that did not finish (an init script failed): empty the volume and start again"
  exit 1
fi

if [ ! -s "$PGDATA/PG_VERSION" ] && [ -n "${POSTGRES_PRIMARY_HOST:-}" ]; then
  write_passfile
  primary_port="${POSTGRES_PRIMARY_PORT:-5432}"
  standby_name="${POSTGRES_STANDBY_NAME:-standby}"
  waited=0
  until pg_isready -q -h "$POSTGRES_PRIMARY_HOST" -p "$primary_port"; do
    if [ $((waited % 30)) -eq 0 ]; then say "waiting for the primary $POSTGRES_PRIMARY_HOST:$primary_port to copy it"; fi
    sleep 2
    waited=$((waited + 2))
  done
  # Into a directory beside PGDATA, moved into place only once complete: an interrupted copy
  # is started over, never started as a database.
  partial="$PGDATA.partial"
  rm -rf "$partial"
  say "copying the primary $POSTGRES_PRIMARY_HOST:$primary_port (pg_basebackup)"
  PGPASSFILE="$passfile" pg_basebackup -d "host=$POSTGRES_PRIMARY_HOST port=$primary_port user=replicator $primary_ssl" \
    --no-password -D "$partial" -X stream --checkpoint=fast
  cat >>"$partial/postgresql.auto.conf" <<CONF
primary_conninfo = 'host=$POSTGRES_PRIMARY_HOST port=$primary_port user=replicator passfile=$passfile application_name=$standby_name $primary_ssl'
hot_standby = on
CONF
  touch "$partial/standby.signal"
  chmod 0700 "$partial"
  rm -rf "$PGDATA"
  mv "$partial" "$PGDATA"
  say "standby of $POSTGRES_PRIMARY_HOST:$primary_port ready (application_name $standby_name)"
elif [ ! -s "$PGDATA/PG_VERSION" ]; then
  if [ -z "${POSTGRES_PASSWORD_FILE:-}" ] || [ ! -r "$POSTGRES_PASSWORD_FILE" ]; then
    say "set POSTGRES_PASSWORD_FILE to a readable file (the superuser password)"
    exit 1
  fi
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of flags
  initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$POSTGRES_PASSWORD_FILE" ${POSTGRES_INITDB_ARGS:-}
  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  # Network clients over TLS only when the server has a certificate (no line matches others).
  hba=host
  if [ -n "$tls" ]; then hba=hostssl; fi
  echo "$hba all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  # Streaming replication, for the role the init script creates when the stack gives it a
  # password (deploy/swarm/postgres/10-fluxel-roles.sh); without that role nobody matches.
  echo "$hba replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sh) say "running $f"; sh "$f" ;;
      *.sql) say "running $f"; psql -v ON_ERROR_STOP=1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f "$f" ;;
      *) ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  touch "$done_marker"
fi

if [ -e "$PGDATA/standby.signal" ]; then
  write_passfile
  if [ "${POSTGRES_PROMOTE:-0}" = 1 ]; then
    # Started as the standby it is (local socket only: nobody writes to it meanwhile), it
    # replays what it received and takes a new timeline; then it starts as a primary.
    say "promoting this standby to primary (POSTGRES_PROMOTE=1)"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
    pg_ctl -D "$PGDATA" -w -t 120 promote
    pg_ctl -D "$PGDATA" -m fast -w stop
    say "promoted: $(pg_controldata "$PGDATA" | sed -n 's/^Latest checkpoint.s TimeLineID: *//p' | sed 's/^/timeline /')"
  fi
fi

if [ "${1:-}" = postgres ]; then
  shift
  if [ -n "${POSTGRES_SYNCHRONOUS_STANDBY:-}" ] && [ ! -e "$PGDATA/standby.signal" ]; then
    set -- -c "synchronous_standby_names=$POSTGRES_SYNCHRONOUS_STANDBY" "$@"
  fi
  if [ -n "$tls" ]; then
    set -- -c ssl=on -c "ssl_cert_file=$POSTGRES_TLS_CERT_FILE" -c "ssl_key_file=$POSTGRES_TLS_KEY_FILE" \
      -c ssl_min_protocol_version=TLSv1.2 "$@"
  fi
  exec postgres -D "$PGDATA" "$@"
fi
exec "$@"
