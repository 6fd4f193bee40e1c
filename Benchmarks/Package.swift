// swift-tools-version:6.2
import PackageDescription

// The benchmark sub-package (package-benchmark, `Benchmarks/` layout as swift-nio and swift-crypto
// keep it). It is a separate package so the root package's build, tests and CI do not pay for
// the benchmark dependency graph.
//
//   tools/bench-alloc-callgrind.sh    # instructions and mallocs per allocation (callgrind),
//                                     # allocations per second (1 and 2 threads), vs the baseline
//   cd Benchmarks && swift package --scratch-path .build-bench \
//       --allow-writing-to-package-directory benchmark --target AllocatorBenchmarks
let package = Package(
    name: "benchmarks",
    dependencies: [
        // `name:` pins the identity: a bare `path:` dependency is named after the checkout folder,
        // which differs in CI's clone.
        .package(name: "zonealloc", path: "../"),
        // MallocInterposer is required here: the default RuntimeInterposer trait pulls in a
        // package that is not available to this toolchain's package mirror.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The allocation fast path: reserve / reserve + commit of 4 KiB through one write point.
        .executableTarget(
            name: "AllocatorBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ZoneAlloc", package: "zonealloc"),
                .product(name: "ZonedStorage", package: "zonealloc"),
            ],
            path: "Benchmarks/AllocatorBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The write-amplification simulator's throughput: simulated block writes per second of a
        // whole `zonealloc simulate` run (ZoneSim on ZoneGC and ZoneAlloc).
        .executableTarget(
            name: "SimulatorBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ZoneSim", package: "zonealloc"),
                .product(name: "ZoneGC", package: "zonealloc"),
            ],
            path: "Benchmarks/SimulatorBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // A plain executable for `valgrind --tool=callgrind` and native timing
        // (tools/bench-alloc-callgrind.sh): N fast-path allocations per thread after one warm-up,
        // so (instr(N) − instr(0)) / N is the cost of one allocation. Kept outside
        // `Benchmarks/Benchmarks` so the plugin does not treat it as a suite.
        .executableTarget(
            name: "AllocatorFastPathProbe",
            dependencies: [
                .product(name: "ZoneAlloc", package: "zonealloc"),
                .product(name: "ZonedStorage", package: "zonealloc"),
            ],
            path: "Probes/AllocatorFastPathProbe"
        ),
        // Sustained 64 KiB puts onto a file-backed emulated device against plain sequential pwrite
        // of the same bytes to a file in the same directory, side by side; prints the ratio.
        //   swift run -c release --scratch-path .build-bench StoreThroughputProbe /path/to/dir 1024 3
        .executableTarget(
            name: "StoreThroughputProbe",
            dependencies: [
                .product(name: "ZoneStore", package: "zonealloc"),
                .product(name: "ZonedStorage", package: "zonealloc"),
            ],
            path: "Probes/StoreThroughputProbe"
        ),
    ]
)

for target in package.targets {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
