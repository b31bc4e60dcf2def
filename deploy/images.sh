#!/usr/bin/env bash
# images.sh -- builds Tandem's Docker image without any registry, on the private engine of
# docker-env.sh:
#
#   tandem-base:bookworm       Debian bookworm (mmdebstrap, minbase) with the runtime packages
#                              the Dockerfile's runtime stage would otherwise install
#   tandem-sentinel:bookworm   Debian bookworm with Debian's redis-sentinel (the stack's sentinels
#                              in tests; users run redis:7.0)
#   tandem:local               `docker build --target prebuilt` on tandem-base, with the release
#                              binary built here with the Swift standard library linked statically
#
# Usage: deploy/images.sh  (sourced by compose-test.sh, or run alone; prints the image size).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/deploy/docker-env.sh"

# A Debian bookworm image with the given packages, made once per engine and package list (the
# list is kept as a label, so adding a package remakes the image).
debian_image() {
    local tag=$1 packages=$2
    if [ "$(docker image inspect --format '{{index .Config.Labels "tandem.packages"}}' "$tag" 2>/dev/null)" = "$packages" ]; then
        return 0
    fi
    echo "deploy: making $tag with mmdebstrap ($packages)"
    # As Debian's slim images: no manuals, documentation or translations.
    mmdebstrap --quiet --variant=minbase --include="$packages" \
        --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/*.log' \
        bookworm - | docker import --change "LABEL tandem.packages=$packages" - "$tag" >/dev/null
}

images_build() {
    debian_image tandem-base:bookworm passwd,liblz4-1,liblzf1,libssl3,libstdc++6,liblua5.1-0,lua-cjson,lua-bitop,redis-tools
    debian_image tandem-sentinel:bookworm redis-sentinel,redis-tools
    echo "deploy: static release build"
    (cd "$ROOT" && swift build -c release --static-swift-stdlib --scratch-path .build-static --product tandem-server \
        && cp .build-static/release/tandem-server .build-static/tandem-server)
    echo "deploy: docker build --target prebuilt"
    docker build --quiet --target prebuilt --build-arg BASE_IMAGE=tandem-base:bookworm -t tandem:local "$ROOT" >/dev/null
    local size
    size=$(docker image inspect tandem:local --format '{{.Size}}')
    echo "deploy: tandem:local is $((size / 1000000)) MB ($(docker image inspect tandem-base:bookworm --format '{{.Size}}' | awk '{printf "%d", $1/1000000}') MB of it the Debian base)"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    docker_env_install
    docker_env_start
    images_build
fi
