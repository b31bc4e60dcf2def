// Overview.swift — what the IntegrationTests target is and how to run it (documentation only).
//
// # IntegrationTests
//
// Starts real server processes (Tandem and Debian's `redis-server` 7.0) on free 127.0.0.1 ports and talks
// raw TCP to them. Depends on no other target of the package, so it builds on its own
// (`swift build --target IntegrationTests`).
//
// | folder / file | what |
// | --- | --- |
// | `Harness/ServerProcess.swift` | start/stop a server (`.tandem`, `.redis`) in a fresh temp dir; `Harness` helpers |
// | `Harness/RawClient.swift` | blocking TCP client: send bytes, read exactly one RESP2/RESP3 reply as raw bytes |
// | `Harness/UnixSocket.swift` | `RawClient(unixSocketPath:)`: the same client over an AF_UNIX socket |
// | `Harness/RESP.swift` | `RESPValue`, the one-reply reader/decoder, encoder and pretty printer |
// | `Harness/Differential.swift` | script DSL (`Step`, `Mode`, `Script`); lock-step runner, Tandem vs redis-server |
// | `Harness/Info.swift` | INFO parser |
// | `Harness/KeyspaceDump.swift` | every key of every db with type, encoding, value, PEXPIRETIME; differences of two dumps |
// | `Harness/RDB.swift` | RDB fixtures, the redis-cli-syntax dataset reader, Redis's CRC64, redis-check-rdb |
// | `Fixtures/rdb/` | RDB files written by redis-server 7.0, their dataset and `generate.sh` (see its README) |
// | `Differential/…Scripts.swift` | differential scripts: connection/server, strings, keys |
// | `Differential/RandomDifferentialTests.swift` | seeded random differential test (strings, keys, expirations) |
// | `Differential/MonitorTests.swift`, `InfoTests.swift` | MONITOR and INFO, compared structurally |
// | `Process/ProcessTests.swift` | start-up log, daemonize/pidfile, config file errors, CONFIG REWRITE, port in use |
// | `Process/RobustnessTests.swift` | maxclients, timeout, query-buffer and bulk limits, big values, pipelining, back-pressure, garbage fuzz, SIGTERM, Unix socket, CONFIG SET port, CLIENT KILL, RESP3 |
// | `Persistence/RDBInteropTests.swift` | RDB both ways: Redis's files load into Tandem, Tandem's SAVE passes redis-check-rdb and loads into Redis, DEBUG RELOAD, DUMP/RESTORE, restarts, damaged files |
// | `Persistence/SnapshotTests.swift` | BGSAVE/SAVE/LASTSAVE and INFO persistence, COW of an idle BGSAVE, -MISCONF after a failed save, -LOADING while loading, SHUTDOWN SAVE/NOSAVE, damaged RESTORE payloads leak nothing |
//
// ## Running
//
// ```sh
// swift build --product tandem-server
// flock /tmp/tandem-build.lock swift test --filter IntegrationTests
// ```
//
// Environment:
//
// - `TANDEM_SERVER=/path/to/binary` — the server under test (default `<package>/.build/debug/tandem-server`).
//   `TANDEM_SERVER=/usr/bin/redis-server` runs everything redis-vs-redis, which checks that the scripts
//   themselves are deterministic. A missing binary fails the tests with a message; nothing is skipped.
// - `REDIS_SERVER=/path` — the reference (default `/usr/bin/redis-server`).
// - `REDIS_CHECK_RDB=/path` — redis-check-rdb for the persistence tests (default `/usr/bin/redis-check-rdb`).
// - `ITEST_TRANSCRIPT=1` — print every differential step with the reference reply.
// - `ITEST_FUZZ_SEED=<n>` — seed of the garbage-input test in RobustnessTests (default 20240612).
// - `ITEST_SEED=<n>`, `ITEST_RANDOM_STEPS=<n>` — seed and length of the random differential test
//   (defaults 20240611 and 3000).
//
// ## Writing a script
//
// ```swift
// static let example = Script("example", serverArgs: ["--requirepass", "secret"], [
//     ["AUTH", "secret"],                 // exact byte comparison
//     .sorted("KEYS", "*"),               // aggregate compared as a multiset
//     .typeOnly("TIME"),                  // same RESP type only
//     .approx(1, "TTL", "k"),             // integers within ±1
//     .mapExcept(["id"], "HELLO", "3"),   // map with some values loose
//     .unorderedMap("CONFIG", "GET", "*"),
//     .noReply("CLIENT", "REPLY", "OFF"), // nothing must come back
//     .scanAll("MATCH", "k*"),            // full SCAN, sorted union compared
//     .sleep(200), .use(1), .reconnect, .closed,
// ])
// ```
//
// Add it to the enum's `all` list; the parameterized `@Test` picks it up and names the script in failures.

// This file intentionally contains no code.
