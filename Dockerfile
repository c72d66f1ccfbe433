# One image for every Tether service: `docker run tether <command>`, the
# command being any of `tether --help` (enrich, sink, serve, ingest ..., migrate).
# The sources run as they are on Node 24 (type stripping): nothing is built.
#
#   docker build -t tether .
#   docker compose --profile pipeline up -d --wait
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
# npm ci runs patch-package (a dev dependency) on kafkajs; then the dev dependencies go.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    TETHER_OPS_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY packages ./packages
COPY services ./services
COPY schemas ./schemas
COPY infra/clickhouse ./infra/clickhouse
COPY samples ./samples
USER node
ENTRYPOINT ["node", "--disable-warning=ExperimentalWarning", "packages/cli/src/tether.ts"]
CMD ["--help"]
