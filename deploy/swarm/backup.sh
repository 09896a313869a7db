#!/usr/bin/env bash
# Encrypted logical backups of one customer's databases:
#
#   deploy/swarm/backup.sh <customer> <age-recipients-file> <out-dir>
#
# Run on the node that holds postgres-<customer> (pinned there by the node label
# fluxel.db-<customer>), e.g. from a systemd timer. pg_dump runs inside the database
# container and its output is piped straight into `age` (Debian package `age`) with public-key
# recipients only: no plaintext dump ever touches a disk, and this host cannot read its own
# backups (the identities stay offline, with the people who restore).
#
# Three files per run:
#   <customer>-relay-<stamp>.dump.age        the relay database (sealed fields stay sealed:
#                                             they are AES-256-GCM envelopes under the
#                                             customer's relay KEK, which is not in the dump)
#   <customer>-portal-<stamp>.dump.age       the portal database without the rows of
#                                             portal_person_keys (the per-person keys)
#   <customer>-portal-keys-<stamp>.dump.age  only portal_person_keys, kept KEYS_RETENTION_DAYS
#                                             (default 30): a person erased in the portal is
#                                             unreadable in every backup once the last key
#                                             dump holding their key has been pruned
# Record dumps are pruned after RETENTION_DAYS (default 35).
set -euo pipefail

customer="${1:?usage: backup.sh <customer> <age-recipients-file> <out-dir>}"
recipients="${2:?age recipients file}"
out="${3:?output directory}"
stack="${STACK:-fluxel}"
retention="${RETENTION_DAYS:-35}"
keys_retention="${KEYS_RETENTION_DAYS:-30}"

command -v age >/dev/null || { echo "backup: age is not installed (apt-get install age)" >&2; exit 69; }
container="$(docker ps -q --filter "label=com.docker.swarm.service.name=${stack}_postgres-${customer}" | head -n 1)"
if [[ -z "$container" ]]; then
  echo "backup: no running ${stack}_postgres-${customer} task on this node" >&2
  exit 1
fi
umask 077
mkdir -p "$out"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"

dump() { # dump <name> <pg_dump args…>
  local file="$out/${customer}-$1-${stamp}.dump.age"
  shift
  docker exec -u postgres "$container" pg_dump --format=custom --no-owner "$@" \
    | age --encrypt --recipients-file "$recipients" >"$file.partial"
  mv "$file.partial" "$file"
  echo "backup: $file"
}

dump relay --dbname=relay
dump portal --dbname=portal --exclude-table-data='portal.portal_person_keys'
dump portal-keys --dbname=portal --table='portal.portal_person_keys'

find "$out" -name "${customer}-relay-*.dump.age" -mtime +"$retention" -delete
find "$out" -name "${customer}-portal-2*.dump.age" -mtime +"$retention" -delete
find "$out" -name "${customer}-portal-keys-*.dump.age" -mtime +"$keys_retention" -delete
