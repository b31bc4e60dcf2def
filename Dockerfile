# Dockerfile -- tandem-server in a small Debian image.
#
# Two ways to build the same runtime image:
#
#     docker build -t tandem .                     # from source, in the official Swift image
#     swift build -c release --static-swift-stdlib --scratch-path .build-static --product tandem-server
#     cp .build-static/release/tandem-server .build-static/tandem-server
#     docker build --target prebuilt -t tandem .   # the binary built on the host (no Swift image)
#
# The second way needs no image from a registry when BASE_IMAGE is a local Debian bookworm image
# that already holds the runtime packages (deploy/images.sh makes one with mmdebstrap). Either way
# the Swift standard library is linked statically, so the runtime needs only the C libraries
# Tandem links (liblz4, liblzf, libcrypto, Lua 5.1 with cjson and bitop, libstdc++ for the static
# Swift runtime) and redis-cli for
# the health check.
#
#     docker run --rm -p 6379:6379 -v tandem-data:/data tandem
#     docker compose up --wait          # a master, two replicas and three sentinels (compose.yaml)
#
# The default configuration is conf/tandem.conf with networking opened for containers (bind
# 0.0.0.0, protected-mode off: put a password in production, see docs/operations.md).
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG BASE_IMAGE=debian:bookworm-slim

# The runtime every variant shares. The stages that follow it are ordered so that the classic
# builder, which builds every stage before its target, never needs the Swift image for --target
# prebuilt.
FROM ${BASE_IMAGE} AS runtime
# Unpinned on purpose (DL3008): these are bookworm's security-maintained libraries, and a rebuild
# should pick up their fixes. A base that already has them (deploy/images.sh) installs nothing.
# hadolint ignore=DL3008
RUN if ! dpkg-query -W liblz4-1 liblzf1 libssl3 libstdc++6 liblua5.1-0 lua-cjson lua-bitop redis-tools >/dev/null 2>&1; then \
        apt-get update \
        && apt-get install -y --no-install-recommends liblz4-1 liblzf1 libssl3 libstdc++6 liblua5.1-0 lua-cjson lua-bitop redis-tools \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && groupadd --system --gid 6379 tandem \
    && useradd --system --uid 6379 --gid tandem --home-dir /data --no-create-home --shell /usr/sbin/nologin tandem \
    && mkdir -p /data \
    && chown tandem:tandem /data
COPY conf/ /etc/tandem/
WORKDIR /data
VOLUME /data
EXPOSE 6379
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=2s --timeout=3s --start-period=10s --retries=5 CMD ["redis-cli", "-p", "6379", "ping"]
# Numeric, so that hosts and volume tools resolve it without this image's /etc/passwd.
USER 6379:6379
CMD ["tandem-server", "/etc/tandem/tandem.conf", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data"]

# The binary built on the host (the command at the top).
FROM runtime AS prebuilt
COPY .build-static/tandem-server /usr/local/bin/tandem-server

# From source, in the official Swift image.
FROM ${SWIFT_IMAGE} AS build
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends \
        pkg-config liblz4-dev liblzf-dev libxxhash-dev libssl-dev liblua5.1-0-dev lua-cjson-dev lua-bitop-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product tandem-server

# The default target.
FROM runtime AS tandem
COPY --from=build /src/.build/release/tandem-server /usr/local/bin/tandem-server
