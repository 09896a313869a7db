#!/bin/sh
# The node's dockerd. Its socket is in /srv/fluxel-node, a directory the host bind-mounts, so
# the host's docker client reaches every node's engine without a TCP port. Containers of the
# node go into their own cgroup parent (the host's cgroup tree is shared with the host's engine).
set -eu
mkdir -p /srv/fluxel-node
rm -f /srv/fluxel-node/docker.sock /run/docker.pid
exec dockerd \
  --host unix:///srv/fluxel-node/docker.sock \
  --data-root /var/lib/docker --exec-root /run/docker --pidfile /run/docker.pid \
  --bip 10.216.0.1/24 --default-address-pool base=10.216.0.0/16,size=24 \
  --cgroup-parent "/fluxel-$(hostname)" \
  --no-new-privileges --log-level warn
