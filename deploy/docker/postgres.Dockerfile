# PostgreSQL for deploy/swarm/stack.yml, from Debian's packages (bookworm: PostgreSQL 15) on a
# Debian base, for hosts without a registry mirror of the official image. It honours the parts
# of the official image's contract the stack uses: POSTGRES_USER, POSTGRES_PASSWORD_FILE,
# POSTGRES_INITDB_ARGS, PGDATA and /docker-entrypoint-initdb.d (postgres-entrypoint.sh).
#
#   docker build -f deploy/docker/postgres.Dockerfile --build-arg BASE_IMAGE=<debian bookworm> -t fluxel/postgres .
#
# Pin BASE_IMAGE by digest in your registry; the default is only the tag of the image built by
# deploy/swarm/test/images.sh.
ARG BASE_IMAGE=fluxel/debian:bookworm

FROM ${BASE_IMAGE} AS runtime
ENV LANG=C.UTF-8 \
    PATH=/usr/lib/postgresql/15/bin:$PATH \
    PGDATA=/var/lib/postgresql/data
# uid/gid 999: the stack mounts the password secrets for 999. Created before the package, which
# then keeps them; no default cluster (initdb runs at the first start, into the volume).
RUN groupadd --system --gid 999 postgres \
 && useradd --system --uid 999 --gid postgres --home-dir /var/lib/postgresql --shell /bin/sh postgres \
 && mkdir -p /etc/postgresql-common/createcluster.d \
 && echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.d/fluxel.conf \
 && printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/*.log \
 && mkdir -p /var/lib/postgresql/data /var/run/postgresql /docker-entrypoint-initdb.d \
 && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql \
 && chmod 0700 /var/lib/postgresql/data
COPY deploy/docker/postgres-entrypoint.sh /usr/local/bin/postgres-entrypoint.sh
USER 999:999
EXPOSE 5432
STOPSIGNAL SIGINT
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=5 \
  CMD ["pg_isready", "-U", "postgres", "-d", "postgres", "-h", "127.0.0.1"]
ENTRYPOINT ["/usr/local/bin/postgres-entrypoint.sh"]
CMD ["postgres"]
