#!/bin/sh
# Container entrypoint for the relay and portal images.
#
# The apps read their secrets from files themselves (`NAME_FILE`, see the relay's and the
# portal's README), so nothing secret passes through here. This only clears a stale audit lock
# (below), then replaces itself with the command (exec: signals reach node).
set -eu

# FLUXEL_CLEAR_STALE_LOCK=<path>: the audit FileStore's LOCK file holds the writer's pid. In a
# container the pid repeats from run to run, so after a kill -9, an OOM kill or a node crash the
# next container finds "its own" pid in the stale LOCK and refuses to open the log. The volume
# belongs to this task slot alone (stop-first updates), so a LOCK present at start is stale.
if [ -n "${FLUXEL_CLEAR_STALE_LOCK:-}" ] && [ -e "$FLUXEL_CLEAR_STALE_LOCK" ]; then
  echo "entrypoint: removing stale lock $FLUXEL_CLEAR_STALE_LOCK (pid $(cat "$FLUXEL_CLEAR_STALE_LOCK" 2>/dev/null || echo '?'))" >&2
  rm -f -- "$FLUXEL_CLEAR_STALE_LOCK"
fi

exec "$@"
