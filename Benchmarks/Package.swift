// swift-tools-version:6.2
import PackageDescription

// The benchmark sub-package (package-benchmark, `Benchmarks/` layout as swift-nio and swift-crypto
// keep it). It is a separate package so the root package's build, tests and CI do not pay for
// the benchmark dependency graph.
//
//   tools/bench-alloc-callgrind.sh    # instructions and mallocs per allocation (callgrind),
//                                     # allocations per second (1 and 2 threads), vs the baseline
//   tools/bench-probes.sh             # store put vs pwrite (4 KiB, 64 KiB, 1 MiB), copygc vs a
//                                     # plain copy, open time vs journal length, memory per
//                                     # bucket and per extent; each ratio measured in one run
//   cd Benchmarks && swift package --scratch-path .build-bench \
//       --allow-writing-to-package-directory benchmark --target AllocatorBenchmarks
//
// `make bench` runs all three (BENCH_QUICK=1 for a short run).
let package = Package(
    name: "benchmarks",
    dependencies: [
        // `name:` pins the identity: a bare `path:` dependency is named after the checkout folder,
        // which differs in CI's clone.
        .package(name: "zonealloc", path: "../"),
        // MallocInterposer is required here: the default RuntimeInterposer trait pulls in a
        // package that is not available to this toolchain's package mirror.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        // The probes' quiet logger (the store logs its opens and closes at `info`).
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
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
        // glibc's heap counters (mallinfo2, which Swift's Glibc module does not export) for
        // MemoryFootprintProbe.
        .target(name: "CMallocInfo", path: "Probes/CMallocInfo"),
        // What the probes share: arguments, timing, heap counters, plain-file baselines, the
        // `RESULT` lines tools/bench-probes.sh collects.
        .target(
            name: "ProbeSupport",
            dependencies: ["CMallocInfo", .product(name: "Logging", package: "swift-log")],
            path: "Probes/ProbeSupport"
        ),
        // Sustained puts of one value size (4 KiB, 64 KiB, 1 MiB) onto a file-backed emulated
        // device against plain sequential pwrite of the same bytes to a file in the same
        // directory, side by side; prints the ratio.
        //   swift run -c release --scratch-path .build-bench StoreThroughputProbe /path/to/dir 512 3 size=64
        .executableTarget(
            name: "StoreThroughputProbe",
            dependencies: [
                "ProbeSupport",
                .product(name: "ZoneStore", package: "zonealloc"),
                .product(name: "ZonedStorage", package: "zonealloc"),
            ],
            path: "Probes/StoreThroughputProbe"
        ),
        // Copygc relocation throughput (collectGarbage on a fragmented store) against a plain
        // read-then-write copy of the same bytes on the emulated device (and between files).
        .executableTarget(
            name: "CopygcThroughputProbe",
            dependencies: [
                "ProbeSupport",
                .product(name: "ZoneAlloc", package: "zonealloc"),
                .product(name: "ZoneStore", package: "zonealloc"),
                .product(name: "ZonedStorage", package: "zonealloc"),
            ],
            path: "Probes/CopygcThroughputProbe"
        ),
        // `ZoneStore.open` time against journal length and index size: a table, and how far the
        // time per record strays from constant.
        .executableTarget(
            name: "RecoveryTimeProbe",
            dependencies: [
                "ProbeSupport",
                .product(name: "ZoneStore", package: "zonealloc"),
                .product(name: "ZonedStorage", package: "zonealloc"),
            ],
            path: "Probes/RecoveryTimeProbe"
        ),
        // Heap bytes per allocator bucket, per copygc bucket and block, and per stored extent.
        .executableTarget(
            name: "MemoryFootprintProbe",
            dependencies: [
                "ProbeSupport",
                .product(name: "ZoneAlloc", package: "zonealloc"),
                .product(name: "ZoneGC", package: "zonealloc"),
                .product(name: "ZoneStore", package: "zonealloc"),
                .product(name: "ZonedStorage", package: "zonealloc"),
            ],
            path: "Probes/MemoryFootprintProbe"
        ),
    ]
)

for target in package.targets where target.type != .system && target.name != "CMallocInfo" {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    target.swiftSettings = settings
}
