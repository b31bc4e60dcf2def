#!/usr/bin/env bash
# compose-test.sh -- the compose stack (compose.yaml) run the way an operator runs it, on a private
# Docker engine with images made here (deploy/images.sh): no registry is contacted.
#
#   1. hadolint passes on the Dockerfile, `docker compose config` on compose.yaml;
#   2. the stack comes up with --wait (every health check green);
#   3. both replicas report master_link_status:up, a write on the master is read on both;
#   4. redis-benchmark through the published port; the replicas end at the master's offset with
#      the same key count;
#   5. `docker compose kill master`: the three sentinels agree on a new master (the time is
#      printed; it must be under 10 s), the other replica follows it with a partial resync, and
#      the old master, started again, rejoins as a replica of the new one;
#   6. `docker compose down -v` leaves no container, volume or network behind.
#
# Usage: deploy/compose-test.sh (as root; `make compose-test`). Ends with "N passed, N failed".
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/deploy/docker-env.sh"
source "$ROOT/deploy/images.sh"

PROJECT=tandemtest$$
PASSED=0
FAILED=0
check() {  # check "what" command...
    local what=$1
    shift
    if "$@"; then
        PASSED=$((PASSED + 1))
        echo "ok: $what"
    else
        FAILED=$((FAILED + 1))
        echo "FAILED: $what"
    fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
compose() { docker-compose -p "$PROJECT" -f "$ROOT/compose.yaml" "$@"; }
info_field() {  # info_field PORT SECTION FIELD
    redis-cli -p "$1" info "$2" 2>/dev/null | tr -d '\r' | sed -n "s/^$3://p"
}
wait_for() {  # wait_for SECONDS command...: true once the command succeeds
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.2
    done
}

docker_env_install
docker_env_start
DOCKER_ENV_CLEANUP="compose down -v --remove-orphans >/dev/null 2>&1"

check "hadolint finds no error in the Dockerfile" hadolint --failure-threshold error "$ROOT/Dockerfile"
check "compose.yaml is valid" compose config -q
images_build

export TANDEM_IMAGE=tandem:local SENTINEL_IMAGE=tandem-sentinel:bookworm
export TANDEM_PORT=$(free_port) REPLICA1_PORT=$(free_port) REPLICA2_PORT=$(free_port)
export SENTINEL1_PORT=$(free_port) SENTINEL2_PORT=$(free_port) SENTINEL3_PORT=$(free_port)
M=$TANDEM_PORT R1=$REPLICA1_PORT R2=$REPLICA2_PORT
SENTINELS="$SENTINEL1_PORT $SENTINEL2_PORT $SENTINEL3_PORT"

# Compose's progress goes to a file, shown only when bringing the stack up fails.
compose_up() {
    local log="$TANDEM_DOCKER_DIR/compose-up.log"
    compose up -d --no-build --wait --wait-timeout 120 >"$log" 2>&1 || { cat "$log"; compose logs --tail 30; return 1; }
}
start=$SECONDS
check "the stack comes up healthy (--wait)" compose_up
echo "info: up in $((SECONDS - start)) s"

link_up() { [ "$(info_field "$1" replication master_link_status)" = up ]; }
check "replica1 linked" wait_for 30 link_up "$R1"
check "replica2 linked" wait_for 30 link_up "$R2"
redis-cli -p "$M" set greeting hello >/dev/null
reads_hello() { [ "$(redis-cli -p "$1" get greeting)" = hello ]; }
check "a write on the master is read on replica1" wait_for 10 reads_hello "$R1"
check "a write on the master is read on replica2" wait_for 10 reads_hello "$R2"

redis-benchmark -p "$M" -t set,incr,lpush -n 20000 -r 10000 -d 64 -q >/dev/null
same_as_master() {
    local mo
    mo=$(info_field "$M" replication master_repl_offset)
    [ "$(info_field "$1" replication slave_repl_offset)" = "$mo" ] \
        && [ "$(redis-cli -p "$1" dbsize)" = "$(redis-cli -p "$M" dbsize)" ]
}
check "replica1 ends equal after redis-benchmark" wait_for 30 same_as_master "$R1"
check "replica2 ends equal after redis-benchmark" wait_for 30 same_as_master "$R2"

sentinels_see_replicas() {
    for s in $SENTINELS; do
        [ "$(redis-cli -p "$s" sentinel master tandem | tr -d '\r' | sed -n '/^num-slaves$/{n;p}')" = 2 ] || return 1
        [ "$(redis-cli -p "$s" sentinel master tandem | tr -d '\r' | sed -n '/^num-other-sentinels$/{n;p}')" = 2 ] || return 1
    done
}
check "each sentinel knows both replicas and the two other sentinels" wait_for 30 sentinels_see_replicas

# Failover.
compose kill master >/dev/null 2>&1
killed=$(date +%s.%N)
agreed_master() {
    local first="" name
    for s in $SENTINELS; do
        name=$(redis-cli -p "$s" sentinel get-master-addr-by-name tandem | head -1)
        case "$name" in replica1|replica2) ;; *) return 1 ;; esac
        [ -z "$first" ] && first=$name
        [ "$name" = "$first" ] || return 1
    done
    NEW_MASTER=$first
}
check "the sentinels agree on a new master" wait_for 30 agreed_master
failover=$(python3 -c "import time; print(f'{time.time() - $killed:.1f}')")
echo "info: failover to $NEW_MASTER agreed by the three sentinels in $failover s"
check "the failover took under 10 s" python3 -c "import sys; sys.exit(0 if $failover < 10 else 1)"
if [ "${NEW_MASTER:-}" = replica1 ]; then NP=$R1 OP=$R2 OTHER=replica2; else NP=$R2 OP=$R1 OTHER=replica1; fi
is_master() { [ "$(info_field "$1" replication role)" = master ]; }
check "$NEW_MASTER is master" wait_for 10 is_master "$NP"
follows_new() { [ "$(info_field "$OP" replication master_host)" = "$NEW_MASTER" ] && link_up "$OP"; }
check "$OTHER follows $NEW_MASTER" wait_for 30 follows_new
partial_ok() { [ "$(info_field "$NP" stats sync_partial_ok)" -ge 1 ]; }
check "$OTHER continued with a partial resync" wait_for 10 partial_ok
redis-cli -p "$NP" set after-failover yes >/dev/null
check "writes go on on $NEW_MASTER" [ "$(redis-cli -p "$NP" get after-failover)" = yes ]

compose start master >/dev/null 2>&1
old_rejoins() {
    [ "$(info_field "$M" replication role)" = slave ] && [ "$(info_field "$M" replication master_host)" = "$NEW_MASTER" ] \
        && link_up "$M" && [ "$(redis-cli -p "$M" get after-failover)" = yes ]
}
check "the old master rejoins as a replica of $NEW_MASTER" wait_for 60 old_rejoins

compose down -v --remove-orphans >/dev/null 2>&1
DOCKER_ENV_CLEANUP=""
left() {
    [ -z "$(docker ps -aq --filter "label=com.docker.compose.project=$PROJECT")" ] \
        && [ -z "$(docker volume ls -q --filter "label=com.docker.compose.project=$PROJECT")" ] \
        && [ -z "$(docker network ls -q --filter "label=com.docker.compose.project=$PROJECT")" ]
}
check "down -v leaves no container, volume or network" left

echo "compose-test: $PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
