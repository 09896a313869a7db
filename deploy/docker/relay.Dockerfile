# The Fluxel relay (examples/relay), multi-stage: build the workspace packages, cut the relay's
# own dependency tree out with `pnpm deploy`, run it as a non-root user.
#
# Build from the repository root (not built or run in CI here: no container engine):
#   docker build -f deploy/docker/relay.Dockerfile -t registry.example/fluxel/relay:0.1.0 .
#
# Pin NODE_IMAGE by digest in your registry mirror; the default below is only the tag.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim
# The build stages' image: any Node.js image with corepack or pnpm (default: NODE_IMAGE).
ARG NODE_BUILD_IMAGE=${NODE_IMAGE}

FROM ${NODE_BUILD_IMAGE} AS build
ENV CI=true PNPM_HOME=/pnpm PATH=/pnpm:$PATH
# pnpm in the version of package.json's "packageManager" (corepack reads it).
RUN command -v pnpm >/dev/null || corepack enable
WORKDIR /src
# Lockfile first: the store layer is cached until the lockfile changes.
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm fetch
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline
# The relay runs its TypeScript sources through tsx; its workspace dependencies (@fluxel/*)
# are built to dist/ (their "exports" point there).
RUN pnpm exec turbo run build --filter=@fluxel-example/relay^...
# --prod: the relay's runtime tree only (tsx, which runs its TypeScript, is a dependency).
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm --filter @fluxel-example/relay deploy --legacy --prod /out

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    RELAY_DATA_DIR=/data \
    RELAY_HOST=0.0.0.0
RUN groupadd --system --gid 10001 fluxel \
 && useradd --system --uid 10001 --gid fluxel --home-dir /nonexistent --shell /usr/sbin/nologin fluxel \
 && mkdir -p /data/audit /data/tls \
 && chown -R fluxel:fluxel /data \
 && chmod 0700 /data /data/audit /data/tls
WORKDIR /app
# Code is owned by root and read-only for the app user.
COPY --from=build /out /app
COPY deploy/docker/entrypoint.sh deploy/docker/healthcheck.mjs /usr/local/lib/fluxel/
RUN chmod 0755 /usr/local/lib/fluxel/entrypoint.sh
USER 10001:10001
# 8443 HTTPS (agents, webhooks, portal API), 8444 admin gRPC (LicenseAdmin), 8080 HTTP-01.
EXPOSE 8443 8444 8080
HEALTHCHECK --interval=30s --timeout=6s --start-period=60s --retries=3 \
  CMD ["node", "/usr/local/lib/fluxel/healthcheck.mjs", "8443", "/v1/status"]
ENTRYPOINT ["/usr/local/lib/fluxel/entrypoint.sh"]
CMD ["node", "--import", "tsx", "src/main.ts"]
