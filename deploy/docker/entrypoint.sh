#!/bin/sh
# Container entrypoint for the relay and portal images.
#
# The apps read secrets from environment variables only (RELAY_ADMIN_TOKEN, …); Docker secrets
# are files. For every variable NAME_FILE that is set, this reads the file into NAME (the
# convention of the official database images), refuses a NAME that is set as well, and
# unsets NAME_FILE. Then it replaces itself with the command (exec: signals reach node).
set -eu

for name in $(env | sed -n 's/^\([A-Z][A-Z0-9_]*\)_FILE=.*/\1/p'); do
  # $name matched [A-Z][A-Z0-9_]* above, so the evals below expand a variable name only.
  eval "file=\${${name}_FILE}"
  if eval "[ -n \"\${${name}+set}\" ]"; then
    echo "entrypoint: both $name and ${name}_FILE are set; set one" >&2
    exit 64
  fi
  if [ ! -r "$file" ]; then
    echo "entrypoint: ${name}_FILE=$file is not readable" >&2
    exit 66
  fi
  # $(cat) drops trailing newlines (secrets made with echo); the value is never printed.
  value=$(cat "$file")
  export "$name=$value"
  unset "${name}_FILE"
done

# FLUXEL_CLEAR_STALE_LOCK=<path>: the audit FileStore's LOCK file holds the writer's pid. In a
# container the pid repeats from run to run, so after a kill -9, an OOM kill or a node crash the
# next container finds "its own" pid in the stale LOCK and refuses to open the log. The volume
# belongs to this task slot alone (stop-first updates), so a LOCK present at start is stale.
if [ -n "${FLUXEL_CLEAR_STALE_LOCK:-}" ] && [ -e "$FLUXEL_CLEAR_STALE_LOCK" ]; then
  echo "entrypoint: removing stale lock $FLUXEL_CLEAR_STALE_LOCK (pid $(cat "$FLUXEL_CLEAR_STALE_LOCK" 2>/dev/null || echo '?'))" >&2
  rm -f -- "$FLUXEL_CLEAR_STALE_LOCK"
fi

exec "$@"
