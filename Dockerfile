# Tributary broker image. The build stage installs every dependency and compiles TypeScript;
# the run stage carries only production dependencies and runs as the non-root `node` user.
# test/deploy/dockerfile.test.ts replays these steps (only what is COPY'd so far is present at
# each RUN), so keep RUN commands to paths relative to WORKDIR.
FROM node:20-bookworm-slim AS build
# zstd-napi compiles its bundled zstd sources when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Dependencies first, without scripts (npm ci would run our `dependencies` script, tsc, with
# no sources yet), so this layer is cached until the lockfile changes.
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
# Then the native dependencies' install scripts, and the compile.
RUN npm rebuild
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
# --ignore-scripts: prune changes node_modules, which would run the `dependencies` script (tsc)
# after TypeScript itself was pruned.
RUN npm run build && npm prune --omit=dev --ignore-scripts && mkdir data

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY package.json ./
# An empty directory owned by `node`, so the volume mounted there is writable.
COPY --from=build --chown=node:node /app/data /data
USER node
VOLUME ["/data"]
ENV TRIBUTARY_LOG_DIRS=/data TRIBUTARY_LISTENERS_HOST=0.0.0.0
EXPOSE 9092 8080
HEALTHCHECK --interval=5s --timeout=5s --retries=12 \
  CMD ["node", "bin/tributary.js", "--bootstrap", "127.0.0.1:9092", "cluster", "health"]
ENTRYPOINT ["node", "--max-semi-space-size=4", "bin/tributary.js", "broker"]
