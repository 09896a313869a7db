# A swarm node for `pnpm test:swarm` (deploy/swarm/test/nodes.mjs): Debian's dockerd (docker.io,
# 20.10) in a container, so that one machine holds a swarm of several nodes that can be lost
# one by one. Built on the Debian base images.sh made (no registry here).
#
# Not for production: a node container shares the host's kernel and cgroup tree and runs with
# SYS_ADMIN and NET_ADMIN (nodes.mjs lists its options). Production nodes are machines.
ARG BASE_IMAGE=fluxel/debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      docker.io iptables iproute2 ca-certificates procps \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY swarm-node-entrypoint.sh /usr/local/bin/swarm-node-entrypoint.sh
# /var/lib/docker is a bind mount from the host (overlay2 does not stack on overlay2).
VOLUME /var/lib/docker
ENTRYPOINT ["/usr/local/bin/swarm-node-entrypoint.sh"]
