# One image for every poolkeeper service: the entry point is the `poolkeeper` CLI, the command
# picks the service (`admin-api`, `watcher`, `oracle-member`, `guardian`, `daemon run`,
# `beacon-sim`, ...). docker-compose.yml runs the devnet's topology from it.
#
#   docker build -t poolkeeper .
#   docker run --rm poolkeeper --help
#
# Build stage: the workspace's dependencies, with the native BLS backend (@chainsafe/blst) built
# against this image's Node (python3, make and g++ are needed for that only).
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN npm install -g pnpm@12.4.2
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile \
 && pnpm typecheck

# Runtime: the sources and node_modules, run as the unprivileged `node` user. TypeScript runs
# through tsx, as in development (no separate build output to drift from the tested code).
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    POOLKEEPER_EXIT_WITH_PARENT=0 \
    POOLKEEPER_DATA_DIR=/data \
    HOST=0.0.0.0 \
    METRICS_HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=node:node /app /app
# named volumes mounted on these start with the image's ownership: the node user may write them
RUN mkdir -p /data /shared /daemon && chown node:node /data /shared /daemon
USER node
VOLUME ["/data"]
ENTRYPOINT ["node", "--import", "tsx", "services/cli/src/main.ts"]
CMD ["--help"]
