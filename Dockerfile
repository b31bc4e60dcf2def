# Dockerfile -- tandem-server in a small Debian image.
#
#     docker build -t tandem .
#     docker run --rm -p 6379:6379 tandem
#     docker compose up          # a master, two replicas and a sentinel (compose.yaml)
#
# The build stage compiles a release binary with the Swift standard library linked statically,
# so the runtime stage needs only the C libraries Tandem links (liblz4, liblzf, libcrypto,
# libxxhash). The default configuration is conf/tandem.conf with networking opened for
# containers (bind 0.0.0.0, protected-mode off: put a password in production).
ARG SWIFT_IMAGE=swift:6.3-bookworm

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        pkg-config liblz4-dev liblzf-dev libxxhash-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources ./Sources
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib --product tandem-server

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        liblz4-1 liblzf1 libssl3 libxxhash0 redis-tools \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/.build/release/tandem-server /usr/local/bin/tandem-server
COPY conf/ /etc/tandem/
WORKDIR /data
EXPOSE 6379
CMD ["tandem-server", "/etc/tandem/tandem.conf", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data"]
