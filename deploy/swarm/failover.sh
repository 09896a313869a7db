#!/usr/bin/env bash
# PostgreSQL failover of one customer (deploy/swarm/stack.yml): the primary postgres-<c> is
# gone (its node lost, its volume broken) and its standby postgres-<c>-standby takes over.
#
#   deploy/swarm/failover.sh <customer> [stack]        (stack: default fluxel)
#
# Run on a Swarm manager. Two steps, in this order:
#  1. Fence the old primary: scale postgres-<c> to 0. Swarm then never starts it again, also
#     when its node comes back; two primaries (a split brain) cannot happen.
#  2. Promote the standby: POSTGRES_PROMOTE=1 on postgres-<c>-standby; its task restarts,
#     promotes its data directory (a new timeline) and runs as the primary from then on.
# The relay and the portal list both servers with target_session_attrs=read-write and move to
# the promoted one by themselves; nothing is restarted there. Every commit they were told about
# is on the standby (synchronous replication). The new primary has no standby: rebuilding one
# is in docs/deploy.md ("PostgreSQL failover").
set -euo pipefail

customer="${1:?usage: failover.sh <customer> [stack]}"
stack="${2:-fluxel}"
if ! [[ "$customer" =~ ^[a-z][a-z0-9]{0,30}$ ]]; then
  echo "customer id: lower-case letters and digits, starting with a letter" >&2
  exit 2
fi
primary="${stack}_postgres-${customer}"
standby="${stack}_postgres-${customer}-standby"
for service in "$primary" "$standby"; do
  if ! docker service inspect "$service" >/dev/null 2>&1; then
    echo "failover: no service $service (stack $stack, customer $customer)" >&2
    exit 1
  fi
done
if [[ "$(docker service inspect --format '{{range .Spec.TaskTemplate.ContainerSpec.Env}}{{println .}}{{end}}' "$standby")" == *POSTGRES_PROMOTE=1* ]]; then
  echo "failover: $standby is already promoted; nothing to do" >&2
  exit 0
fi
echo "failover: fencing $primary (scaled to 0: never started again)"
docker service scale --detach "$primary=0" >/dev/null
echo "failover: promoting $standby"
docker service update --detach --env-add POSTGRES_PROMOTE=1 "$standby" >/dev/null
echo "failover: done; the relay and the portal of $customer move to $standby by themselves"
