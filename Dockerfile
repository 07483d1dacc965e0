# stx-cinder-proxy: the proxy and its export engine in one image.
FROM docker.io/library/node:20-bookworm-slim
# the engine streams qcow2 chains through qemu-nbd/nbdcopy and zstd archives through zstd
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends qemu-utils libnbd-bin zstd python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY config ./config
# V8's young generation at a fixed 2 x 16 MiB: sized once at start, so RSS does not climb under load
# (growing from 1 to 16 MiB semi-spaces looked like a leak in a soak). Not smaller: each scavenge copies the
# in-flight requests' objects whatever its size, and 4 MiB semi-spaces cost 7 us of GC per request, 16 MiB 2 us.
ENV NODE_OPTIONS="--min-semi-space-size=16 --max-semi-space-size=16"
EXPOSE 9776
STOPSIGNAL SIGTERM
# node is PID 1 itself (no tsx parent process): docker stop's SIGTERM reaches the proxy, which drains its
# jobs for up to engine.shutdownTimeoutMs and then exits; give it longer than that (docker stop -t, compose
# stop_grace_period)
CMD ["node", "--import", "tsx", "src/main.ts", "--config", "/etc/stx-cinder-proxy/config.yaml"]
