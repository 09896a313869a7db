# Redis for deploy/swarm/stack.yml, from Debian's packages (bookworm: Redis 7.0) on a Debian
# base, for hosts without a registry mirror of the official image. The stack runs it as
# 999:999 with `redis-server /usr/local/etc/redis/redis.conf` (a per-customer secret that
# holds `requirepass` and includes the base config).
#
#   docker build -f deploy/docker/redis.Dockerfile --build-arg BASE_IMAGE=<debian bookworm> -t fluxel/redis .
#
# Pin BASE_IMAGE by digest in your registry; the default is only the tag of the image built by
# deploy/swarm/test/images.sh.
ARG BASE_IMAGE=fluxel/debian:bookworm

FROM ${BASE_IMAGE} AS runtime
# uid/gid 999, created before the package (which then keeps them).
RUN groupadd --system --gid 999 redis \
 && useradd --system --uid 999 --gid redis --home-dir /var/lib/redis --shell /usr/sbin/nologin redis \
 && printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d \
 && apt-get update \
 && apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log \
 && mkdir -p /usr/local/etc/redis /data \
 && chown redis:redis /data
USER 999:999
WORKDIR /data
EXPOSE 6379
# The password is read from the mounted config, never put on an argv (REDISCLI_AUTH).
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=5 \
  CMD ["sh", "-c", "REDISCLI_AUTH=\"$(sed -n 's/^requirepass //p' /usr/local/etc/redis/redis.conf)\" redis-cli -h 127.0.0.1 ping | grep -q PONG"]
CMD ["redis-server", "/usr/local/etc/redis/redis.conf"]
