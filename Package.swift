// swift-tools-version:6.2
import PackageDescription

let swiftSystem: Target.Dependency = .product(name: "SystemPackage", package: "swift-system")
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")

let package = Package(
    name: "zonealloc",
    products: [
        .executable(name: "zonealloc", targets: ["ZoneAllocCLI"]),
        .library(name: "ZonedStorage", targets: ["ZonedStorage"]),
        .library(name: "ZoneAlloc", targets: ["ZoneAlloc"]),
        .library(name: "ZoneConformance", targets: ["ZoneConformance"]),
        .library(name: "ZoneGC", targets: ["ZoneGC"]),
        .library(name: "ZoneSim", targets: ["ZoneSim"]),
        .library(name: "ZoneStore", targets: ["ZoneStore"]),
    ],
    dependencies: [
        // FileDescriptor (pread/pwrite with EINTR retry) and Errno for the emulator and libzbd layer.
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        // The `zonealloc` command line: subcommands, validation, exit code 64 for bad usage.
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // ZoneStore's logging, counters and gauges, and its background copygc service.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // libzbd through pkg-config. A system library target holds only the module map and a
        // header of `static inline` helpers (see Sources/CZBD/shim.h).
        .systemLibrary(
            name: "CZBD",
            pkgConfig: "libzbd",
            providers: [.apt(["libzbd-dev"])]
        ),
        // xxHash through pkg-config (Debian libxxhash-dev): ZoneStore's extent and metadata checksums.
        .systemLibrary(
            name: "CXXHash",
            pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"])]
        ),
        // The few Linux calls Swift's Glibc module hides behind _GNU_SOURCE (fallocate, O_DIRECT).
        .target(name: "CZonedShims"),
        .target(
            name: "ZonedStorage",
            dependencies: ["CZBD", "CZonedShims", swiftSystem],
            swiftSettings: [
                .define("ZONEALLOC_INTERNAL_CHECKS", .when(configuration: .debug)),
                .strictMemorySafety(),
            ]
        ),
        .target(
            name: "ZoneConformance",
            dependencies: ["ZonedStorage"]
        ),
        .target(
            name: "ZoneAlloc",
            dependencies: ["ZonedStorage"],
            swiftSettings: [.define("ZONEALLOC_INTERNAL_CHECKS", .when(configuration: .debug))]
        ),
        // A keyed extent store on the allocator: superblock, journal, checkpoints, recovery, copygc.
        .target(
            name: "ZoneStore",
            dependencies: ["ZonedStorage", "ZoneAlloc", "ZoneGC", "CXXHash", logging, metrics, serviceLifecycle],
            swiftSettings: [.define("ZONEALLOC_INTERNAL_CHECKS", .when(configuration: .debug))]
        ),
        // Copygc: triggers, victim selection, evacuation through backpointers, pacing, statistics.
        .target(
            name: "ZoneGC",
            dependencies: ["ZoneAlloc", "ZonedStorage"]
        ),
        // The write-amplification simulator: workloads driving ZoneAlloc + ZoneGC on a
        // metadata-only emulated device.
        .target(
            name: "ZoneSim",
            dependencies: ["ZoneGC", "ZoneAlloc", "ZonedStorage"]
        ),
        .executableTarget(
            name: "ZoneAllocCLI",
            dependencies: [
                "ZonedStorage", "ZoneAlloc", "ZoneConformance", "ZoneStore", "ZoneGC", "ZoneSim", argumentParser,
                swiftSystem,
            ]
        ),
        .target(
            name: "ZoneAllocTestSupport",
            dependencies: ["ZonedStorage", "ZoneAlloc", swiftSystem],
            path: "Tests/ZoneAllocTestSupport"
        ),
        .testTarget(
            name: "ZonedStorageTests",
            dependencies: ["ZonedStorage", "ZoneAllocTestSupport", swiftSystem]
        ),
        .testTarget(
            name: "ZoneConformanceTests",
            dependencies: ["ZoneConformance", "ZonedStorage", "ZoneAllocTestSupport"]
        ),
        .testTarget(
            name: "ZoneAllocTests",
            dependencies: ["ZoneAlloc", "ZonedStorage", "ZoneAllocTestSupport"]
        ),
        .testTarget(
            name: "ZoneStoreTests",
            dependencies: ["ZoneStore", "ZoneAlloc", "ZonedStorage", "ZoneAllocTestSupport", serviceLifecycle, logging]
        ),
        .testTarget(
            name: "ZoneGCTests",
            dependencies: ["ZoneGC", "ZoneAlloc", "ZonedStorage", "ZoneAllocTestSupport"]
        ),
        .testTarget(
            name: "ZoneSimTests",
            dependencies: ["ZoneSim", "ZoneGC", "ZoneAlloc", "ZonedStorage", "ZoneAllocTestSupport"]
        ),
        .testTarget(
            name: "ZoneAllocCLITests",
            dependencies: ["ZoneAllocCLI", "ZonedStorage", "ZoneAllocTestSupport", argumentParser, swiftSystem]
        ),
    ]
)

// The libFuzzer targets (Fuzz/ZoneFuzz, `make fuzz`): declared only when tools/fuzz.sh builds them
// with ZONEALLOC_FUZZ set to the path of libFuzzer's driver library (libclang_rt.fuzzer_no_main),
// so the normal build and test never need the fuzzer.
if let fuzzerRuntime = Context.environment["ZONEALLOC_FUZZ"], !fuzzerRuntime.isEmpty {
    package.targets.append(
        .executableTarget(
            name: "ZoneFuzz",
            dependencies: ["ZoneStore", "ZoneSim", argumentParser],
            path: "Fuzz/ZoneFuzz",
            linkerSettings: [.unsafeFlags([fuzzerRuntime, "-lstdc++"])]
        )
    )
}

// Cross-cutting settings for every Swift target (system library targets have no Swift settings).
for target in package.targets
where [.executable, .test, .regular].contains(target.type) && target.name != "CZonedShims" {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    // Require `any` for existential types (SE-0335).
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    // A file sees only the modules it imports itself (SE-0444).
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    // Imports are internal unless marked `public import` (SE-0409).
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    settings.append(.treatAllWarnings(as: .error))
    target.swiftSettings = settings
}
