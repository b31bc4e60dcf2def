// swift-tools-version: 6.1
//
// bench/micro: microbenchmarks of the hot path's pieces (issue 20), with ordo-one/benchmark.
// A package of its own so that the server's build and CI never resolve the benchmark
// library; it depends on the server's package by path (its TandemPieces product).
// Run with `make bench-micro` (bench/micro/run), which stores a report in bench/results/.
import PackageDescription

let package = Package(
    name: "TandemMicro",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "Tandem", path: "../.."),
        // The malloc interposer gives the allocation counts per operation (0 on the hot path).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Pieces",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TandemPieces", package: "Tandem"),
            ],
            path: "Benchmarks/Pieces",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
