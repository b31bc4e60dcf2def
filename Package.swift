// swift-tools-version:6.0
//
// Tandem: a Redis-compatible in-memory data server.
//
// One target per concern (see docs/architecture.md):
//   CTandem     C shims for what Swift cannot import directly (epoll, accept4, eventfd,
//               accounted malloc, xxHash, shared-memory atomics) — tiny static inline functions only.
//   CTLS        the OpenSSL calls TLS needs (contexts, non-blocking handshake, read, write).
//   CLZ4, CLZF  module maps for Debian's liblz4 and liblzf.
//   CLua        Debian's Lua 5.1 with lua-cjson and lua-bitop, and the `struct` and `cmsgpack`
//               modules Redis scripts expect (written here: Debian has none with Redis's API).
//   Platform    typed wrappers over syscalls, the epoll event loop, clocks, logging.
//   RESP        the zero-copy request parser and reply encoders.
//   Keyspace    the off-heap hash table, string values and expiry index.
//   Persistence the RDB format: CRC64, listpack/ziplist codecs, the snapshot writer and loader.
//   Replication the replication backlog ring in POSIX shared memory, the sender worker processes
//               that feed replicas from it, and the LZ4 framing of the stream.
//   Server      clients, command table and commands, config, INFO, scripting.
//   tandem-server  the executable: argument parsing, daemonize, signals, wiring.
import PackageDescription

/// Release builds optimise across module boundaries, so the server inlines the small wrappers of
/// Platform, RESP and Keyspace it calls per command (issue 20).
let crossModule: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

let package = Package(
    name: "Tandem",
    products: [
        .executable(name: "tandem-server", targets: ["tandem-server"]),
        // The pieces bench/micro measures (make bench-micro): a separate package depends on
        // these, so the server's own build never fetches or builds the benchmark library.
        .library(name: "TandemPieces", targets: ["Platform", "RESP", "Keyspace", "Replication"]),
    ],
    targets: [
        .target(name: "CTandem", linkerSettings: [.linkedLibrary("m"), .linkedLibrary("crypto")]),
        .target(name: "CTLS", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CLZF", pkgConfig: "liblzf", providers: [.apt(["liblzf-dev"])]),
        .target(name: "CLua", linkerSettings: [
            .linkedLibrary("lua5.1"), .linkedLibrary("lua5.1-cjson"), .linkedLibrary("lua5.1-bitop"), .linkedLibrary("m"),
        ]),
        .target(name: "Platform", dependencies: ["CTandem"], swiftSettings: crossModule),
        .target(name: "RESP", dependencies: ["CTandem", "Platform"], swiftSettings: crossModule),
        .target(name: "Keyspace", dependencies: ["CTandem", "Platform"], swiftSettings: crossModule),
        .target(name: "Persistence", dependencies: ["CTandem", "Platform", "Keyspace", "CLZF"], swiftSettings: crossModule),
        .target(name: "Replication", dependencies: ["CTandem", "Platform", "CLZ4"], swiftSettings: crossModule),
        .target(name: "Server", dependencies: ["CTandem", "CTLS", "CLua", "Platform", "RESP", "Keyspace", "Persistence", "Replication"], swiftSettings: crossModule),
        .executableTarget(name: "tandem-server", dependencies: ["Server", "Platform", "CTandem"], swiftSettings: crossModule),
        // The kernel's floor for a request on this event loop (bench/instructions, issue 20).
        .executableTarget(name: "tandem-floor", dependencies: ["Platform", "CTandem"]),
        .testTarget(name: "PlatformTests", dependencies: ["Platform"]),
        .testTarget(name: "RESPTests", dependencies: ["RESP", "Platform"]),
        .testTarget(name: "KeyspaceTests", dependencies: ["Keyspace", "Platform", "CTandem"]),
        .testTarget(name: "PersistenceTests", dependencies: ["Persistence", "Keyspace", "Platform", "CTandem"]),
        .testTarget(name: "ReplicationTests", dependencies: ["Replication", "Platform", "CTandem"]),
        .testTarget(name: "ServerTests", dependencies: ["Server", "Platform", "Keyspace"]),
        .testTarget(name: "IntegrationTests", path: "Tests/IntegrationTests", exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
