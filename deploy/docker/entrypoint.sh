#!/bin/sh
# Container entrypoint for the relay and portal images.
#
# The apps read their secrets from files themselves (`NAME_FILE`, see the relay's and the
# portal's README), so nothing secret passes through here. It only replaces itself with the
# command (exec: signals reach node). The audit log's LOCK needs no help here: @fluxel/audit's
# FileStore tells a crashed writer's lock (also one with a pid this container has again) from
# a live writer's, in this container or another one on the volume.
set -eu

exec "$@"
