# Tributary broker image: build stage compiles TypeScript (and zstd-napi from its bundled
# sources), run stage carries only production dependencies and runs as a non-root user.
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
COPY test ./test
COPY bench ./bench
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY package.json ./
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
ENV TRIBUTARY_LOG_DIRS=/data TRIBUTARY_LISTENERS_HOST=0.0.0.0
EXPOSE 9092 8080
HEALTHCHECK --interval=5s --timeout=5s --retries=12 \
  CMD ["node", "bin/tributary.js", "--bootstrap", "127.0.0.1:9092", "cluster", "health"]
ENTRYPOINT ["node", "bin/tributary.js", "broker"]
