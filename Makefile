# Makefile -- convenience targets for Tandem.
#
#   make deps    install the Debian packages the build and tests need
#   make build   release build (.build/release/tandem-server)
#   make run     build, then run the server in the foreground with conf/tandem.conf
#   make test    debug build, then unit and integration tests (swift test)
#   make bench   build, then compare Tandem with redis-server (bench/compare)
#   make bench-persistence  build, then BGSAVE/load/COW/RDB size vs redis-server
#   make bench-replication  build, then full sync, lag, WAIT, partial resync vs redis-server
#   make bench-fanout  build, then primary CPU per write with 0-8 replicas, bursts, WAIT vs redis-server
#   make bench-cluster  build, then a six-node cluster vs redis-server's: throughput, reshard, failover
#   make bench-instructions  build, then callgrind instructions per request and CPU per request
#   make bench-micro  microbenchmarks of the pieces (parser, dict, replies, lists, ring): bench/micro
#   make bench-charts  redraw the newest report of each benchmark as PNG, update bench/README.md
#   make bench-check  (CI) bench/micro builds and runs, bench/chart.py draws
#                      against tandem-floor and redis-server (needs valgrind)
#   make static  release build with the Swift runtime linked statically (.build-static/tandem-server)
#   make images  the Docker images, made here without any registry (deploy/images.sh)
#   make compose-test  the compose stack on a private Docker engine: up, replicate, fail over (deploy/)
#   make netns-test    master, replicas and sentinels each on its own host (network namespaces)
#   make walkthrough-test  the operator's walkthrough of docs/operations.md, run as written
#   make compat  Redis 7.0's own Tcl test suite against the release build: the pass/fail table
#   make fuzz    a longer, randomly seeded mutation run of the RDB loader
#   make clean   remove build products
#
# SwiftPM does the real work; this file only chains the steps and makes sure
# the system packages are present. Swift itself is expected on PATH.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=
SWIFT_TEST_FLAGS ?=
CONF ?= conf/tandem.conf

# Debian packages: the reference Redis tools and Prometheus's Redis exporter
# (used by the integration tests and the benchmark), and the C libraries linked by the server (libssl-dev
# provides libcrypto, which the CTandem target links; Lua 5.1 with lua-cjson and lua-bitop for the
# CLua target).
APT_PACKAGES := build-essential pkg-config \
                redis-server redis-tools redis-sentinel prometheus-redis-exporter curl \
                liblz4-dev liblzf-dev libxxhash-dev libssl-dev openssl tcl-tls \
                liblua5.1-0-dev lua-cjson-dev lua-bitop-dev

# Use sudo for apt-get only when not already root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build run test static images compose-test netns-test walkthrough-test compat bench bench-persistence bench-replication bench-fanout bench-cluster bench-instructions bench-micro bench-charts bench-check bench-streams fuzz clean

all: build

deps:
	@missing=""; \
	for p in $(APT_PACKAGES); do \
	    if ! dpkg -s "$$p" 2>/dev/null | grep -q '^Status: install ok installed'; then \
	        missing="$$missing $$p"; \
	    fi; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "deps: installing:$$missing"; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update; \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; \
	else \
	    echo "deps: all packages present"; \
	fi

build: deps
	$(SWIFT) build -c release $(SWIFT_BUILD_FLAGS)

run: build
	./.build/release/tandem-server $(CONF)

# The integration tests start .build/debug/tandem-server, so build the debug
# products (executable included) before running the tests.
test: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)
	$(SWIFT) test $(SWIFT_TEST_FLAGS)

# The binary the Docker image and the multi-host tests run: the Swift standard library linked
# statically, so it needs only Debian's C libraries (see Dockerfile).
static: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-static --product tandem-server
	cp .build-static/release/tandem-server .build-static/tandem-server

# These need root: a private dockerd, mmdebstrap, ip netns.
images: deps
	deploy/images.sh

compose-test: deps
	deploy/compose-test.sh

netns-test: static
	TANDEM_SERVER=$(CURDIR)/.build-static/tandem-server deploy/netns-test.py

walkthrough-test: static
	TANDEM_SERVER=$(CURDIR)/.build-static/tandem-server deploy/walkthrough-test.sh

# Redis's own test suite (docs/compatibility.md). REDIS_TESTS_DIR: the suite (a Redis source tree
# or the team's copy); REDIS_TCL_SUITE: the runner; COMPAT_UNITS: the units, spawn mode (the suite
# starts its servers itself, so replication and persistence units run too).
REDIS_TESTS_DIR ?= $(abspath ../shared/redis-tests)
REDIS_TCL_SUITE ?= $(abspath ../shared/tools/redis-tcl-suite.sh)
COMPAT_UNITS ?= unit/printver unit/dump unit/auth unit/acl unit/acl-v2 unit/protocol unit/keyspace unit/scan unit/info \
    unit/info-command unit/type/string unit/type/incr unit/type/list unit/type/list-2 unit/type/list-3 \
    unit/type/set unit/type/zset unit/type/hash unit/sort unit/expire unit/other unit/multi unit/quit \
    unit/pubsub unit/pubsubshard unit/introspection unit/introspection-2 unit/latency-monitor \
    unit/slowlog unit/querybuf unit/pendingquerybuf unit/limits unit/shutdown unit/networking \
    unit/pause unit/replybufsize unit/oom-score-adj unit/functions unit/maxmemory unit/lazyfree unit/tracking unit/obuf-limits unit/client-eviction \
    unit/type/stream unit/type/stream-cgroups unit/bitops unit/bitfield unit/geo unit/hyperloglog \
    integration/redis-cli integration/redis-benchmark \
    integration/logging integration/shutdown integration/corrupt-dump integration/corrupt-dump-fuzzer \
    integration/dismiss-mem integration/aof integration/aof-multi-part unit/aofrw \
    unit/cluster/misc unit/cluster/links unit/cluster/announced-endpoints unit/cluster-scripting unit/cluster
compat: build
	REDIS_TESTS_DIR=$(REDIS_TESTS_DIR) TCL_TOTAL_TIMEOUT=$${TCL_TOTAL_TIMEOUT:-3600} \
	    $(REDIS_TCL_SUITE) spawn $(CURDIR)/.build/release/tandem-server $(COMPAT_UNITS)

# FUZZ_ITERATIONS mutated dump files (default 200000, a few minutes) with a seed
# printed first, so a failure can be replayed with FUZZ_SEED=<seed>.
FUZZ_ITERATIONS ?= 200000
FUZZ_SEED ?= $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fuzz: deps
	@echo "fuzz: seed $(FUZZ_SEED), $(FUZZ_ITERATIONS) iterations"
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	TANDEM_FUZZ_SEED=$(FUZZ_SEED) TANDEM_FUZZ_ITERATIONS=$(FUZZ_ITERATIONS) \
	    $(SWIFT) test --skip-build --filter RDBLoaderMutationTests

bench: build
	./bench/compare

bench-cluster: build
	./bench/cluster

bench-instructions: build
	@command -v valgrind >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y valgrind
	./bench/instructions

bench-micro: deps
	./bench/micro/run

bench-charts:
	./bench/chart.py --readme

# CI: the benchmarks' own code still builds and draws -- bench/micro on one short benchmark and
# a chart of the newest committed compare report, both written to scratch directories.
bench-check: deps
	RESULTS_DIR=$$(mktemp -d) FILTER='Reply: \+OK' ./bench/micro/run
	d=$$(mktemp -d) && cp $$(ls bench/results/compare-*.md | tail -1) $$d/report.md \
	    && ./bench/chart.py $$d/report.md && test -s $$d/report.png

bench-persistence: build
	./bench/persistence

bench-replication: build
	./bench/replication

bench-fanout: build
	./bench/fanout

bench-streams: build
	./bench/streams

clean:
	rm -rf .build .build-static bench/micro/.build
	rm -f bench/results/*.tmp
