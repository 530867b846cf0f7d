# syntax=docker/dockerfile:1
# MaskWatch: one image for every role (api, worker, start, agent, simulate);
# the command picks the role. Build: docker build -t maskwatch .
# NODE_IMAGE: the Debian-based Node 20 image both stages start from (default the
# official node:20-slim). Where no registry is reachable, build a stand-in from
# Debian packages and the npm registry with scripts/container-base.sh and pass
# --build-arg NODE_IMAGE=localhost/maskwatch-node:20-bookworm.
ARG NODE_IMAGE=node:20-slim

# ---- build: dev dependencies, Prisma clients, dashboard and server bundles ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 may need to compile when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY scripts ./scripts
COPY prisma ./prisma
# postinstall generates the Prisma clients (no engine download: see scripts/prisma-generate.sh).
RUN npm ci
COPY . .
RUN bash scripts/prisma-generate.sh \
 && npm run build \
 # Production dependencies only, for the runtime stage (the generated clients live in src/, not node_modules).
 && npm prune --omit=dev \
 # ONNX Runtime ships its native library for every OS and CPU (~290 MB); the image keeps its own (~35 MB).
 && keep="node_modules/onnxruntime-node/bin/napi-v6/$(node -p 'process.platform + "/" + process.arch')" \
 && test -f "$keep/onnxruntime_binding.node" \
 && find node_modules/onnxruntime-node/bin/napi-v6 -mindepth 2 -maxdepth 2 -type d ! -path "$keep" -exec rm -rf {} +

# ---- runtime: NODE_IMAGE, production dependencies, non-root ----
FROM ${NODE_IMAGE} AS runtime
# MALLOC_ARENA_MAX: fewer glibc malloc arenas, ~70 MB less RSS per worker under load (src/system/worker-pool.ts).
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    MASKWATCH_DATA_DIR=/var/lib/maskwatch \
    MASKWATCH_ASSETS=/assets \
    MALLOC_ARENA_MAX=2
# ffmpeg: the camera agent decodes video files and RTSP with it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/maskwatch /assets /app/.cache/models \
 && chown -R node:node /var/lib/maskwatch /app
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/package.json /app/package-lock.json /app/tsconfig.json ./
COPY --from=build --chown=node:node /app/bin ./bin
COPY --from=build --chown=node:node /app/src ./src
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/prisma ./prisma
COPY --from=build --chown=node:node /app/models ./models
COPY --chown=node:node deploy/docker-entrypoint.sh /usr/local/bin/maskwatch-entrypoint
USER node
# Model weights are not baked in: at start the entrypoint resolves them from
# MASKWATCH_ASSETS (a mounted read-only folder) or downloads them
# (npm run models:fetch) into /app/.cache/models (mount a volume to keep them).
VOLUME ["/var/lib/maskwatch", "/app/.cache/models"]
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/maskwatch-entrypoint"]
CMD ["api"]
