# The Fluxel portal (examples/portal), multi-stage: build the workspace packages and the web
# app, cut the portal's dependency tree out with `pnpm deploy`, run it as a non-root user.
#
# Build from the repository root (not built or run in CI here: no container engine):
#   docker build -f deploy/docker/portal.Dockerfile -t registry.example/fluxel/portal:0.1.0 .
#
# Pin NODE_IMAGE by digest in your registry mirror; the default below is only the tag.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim
# The build stages' image: any Node.js image with corepack or pnpm (default: NODE_IMAGE).
ARG NODE_BUILD_IMAGE=${NODE_IMAGE}

FROM ${NODE_BUILD_IMAGE} AS build
ENV CI=true PNPM_HOME=/pnpm PATH=/pnpm:$PATH
RUN command -v pnpm >/dev/null || corepack enable
WORKDIR /src
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store pnpm fetch
COPY . .
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --offline
RUN pnpm exec turbo run build --filter=@fluxel-example/portal^... \
 && pnpm --filter @fluxel-example/portal build
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm --filter @fluxel-example/portal deploy --legacy --prod /out
# dist/ is git-ignored, so `pnpm deploy` may leave the built web app out: copy it explicitly.
RUN rm -rf /out/dist/web && mkdir -p /out/dist && cp -r examples/portal/dist/web /out/dist/web

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORTAL_DATA_DIR=/data/portal \
    PORTAL_HOST=0.0.0.0
RUN groupadd --system --gid 10001 fluxel \
 && useradd --system --uid 10001 --gid fluxel --home-dir /nonexistent --shell /usr/sbin/nologin fluxel \
 && mkdir -p /data/portal \
 && chown -R fluxel:fluxel /data \
 && chmod -R 0700 /data
WORKDIR /app
COPY --from=build /out /app
COPY deploy/docker/entrypoint.sh deploy/docker/healthcheck.mjs /usr/local/lib/fluxel/
RUN chmod 0755 /usr/local/lib/fluxel/entrypoint.sh
USER 10001:10001
EXPOSE 8445
HEALTHCHECK --interval=30s --timeout=6s --start-period=90s --retries=3 \
  CMD ["node", "/usr/local/lib/fluxel/healthcheck.mjs", "8445", "/api/status", "/run/secrets/internal_ca"]
ENTRYPOINT ["/usr/local/lib/fluxel/entrypoint.sh"]
# The production entry: configured from the environment only (see examples/portal/README.md).
CMD ["node", "--import", "tsx", "src/server/main.ts"]
