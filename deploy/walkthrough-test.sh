#!/usr/bin/env bash
# walkthrough-test.sh -- runs the operator's walkthrough of docs/operations.md as written: every
# ```sh block of its "Walkthrough" section, in order, in one shell (`set -euo pipefail`), so the
# guide cannot drift from what works.
#
# It runs in a network namespace of its own (only a loopback interface), so the standard ports the
# guide uses are free whatever runs on the machine, and in a scratch directory holding a copy of
# conf/; everything started there is stopped with the namespace. Needs root (ip netns).
#
# Usage: deploy/walkthrough-test.sh  (TANDEM_SERVER: the binary, default .build/release/tandem-server)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TANDEM_SERVER="$(realpath "${TANDEM_SERVER:-$ROOT/.build/release/tandem-server}")"
NS="tandem-walk-$$"
WORK="$(mktemp -d /tmp/tandem-walkthrough.XXXXXX)"

cleanup() {
    local rc=$?
    for pid in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$NS" 2>/dev/null || true
    if [ $rc != 0 ]; then
        for log in "$WORK"/*/*.log; do echo "--- $log"; tail -15 "$log"; done 2>/dev/null || true
    fi
    rm -rf "$WORK"
    return $rc
}
trap cleanup EXIT

# The blocks: between "## Walkthrough" and the next "## " heading, fences opened with ```sh.
awk '
    /^## Walkthrough/ { inside = 1; next }
    inside && /^## / { inside = 0 }
    inside && /^```sh$/ { block = 1; n++; print "echo \"== walkthrough step " n "\""; next }
    block && /^```$/ { block = 0; print "echo \"ok: walkthrough block " n "\""; next }
    block { print }
' "$ROOT/docs/operations.md" > "$WORK/walkthrough.sh"
blocks=$(grep -c '^echo "ok: walkthrough block' "$WORK/walkthrough.sh" || true)
[ "$blocks" -gt 0 ] || { echo "walkthrough-test: no sh block found"; exit 1; }

mkdir -p "$WORK/bin"
ln -s "$TANDEM_SERVER" "$WORK/bin/tandem-server"
cp -r "$ROOT/conf" "$WORK/conf"
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up

set +e
(cd "$WORK" && PATH="$WORK/bin:$PATH" timeout 600 ip netns exec "$NS" bash -euo pipefail walkthrough.sh) 2>&1 | tee "$WORK/out.txt"
rc=${PIPESTATUS[0]}
set -e
ok=$(grep -c '^ok: walkthrough block' "$WORK/out.txt" || true)
echo "walkthrough-test: $ok passed, $((blocks - ok)) failed"
[ "$rc" = 0 ] && [ "$ok" = "$blocks" ]
