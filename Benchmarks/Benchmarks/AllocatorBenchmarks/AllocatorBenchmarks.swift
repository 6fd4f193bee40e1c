// The allocation fast path of `BucketAllocator`: `reserve(sectors:through:)` when the write
// point's open bucket has room is a bump of the bucket's write pointer under the write point's own
// lock, with no I/O, no system call and no allocation; `commit` of that reservation is a decrement
// under the same lock.
//
// Every benchmark runs on a metadata-only `EmulatedDevice` (zone state only, no data) and
// allocates 4 KiB (8 sectors). One iteration is `benchmark.scaledIterations` = 10^6 allocations
// per thread: long enough (≈ 0.03–0.15 s) for `cpuTotal`, whose resolution is the kernel's CPU
// time tick, to mean something. package-benchmark divides the metrics marked `*` by 10^6, so they
// read per allocation. `Allocations / s` is measured here (a custom metric) because the built-in
// `throughput` is printed as a whole number of millions at this scaling.
//
// Instructions per allocation: `.instructions` needs perf events, which this machine does not
// have (`perf stat -e instructions true` says "not supported"; the metric is then left out of the
// table). tools/bench-alloc-callgrind.sh counts them with callgrind instead (the same loops, in
// Probes/AllocatorFastPathProbe), and prints them next to allocations per second.

import Benchmark
import Dispatch
import ZoneAlloc
import ZonedStorage

/// A metadata-only device and an allocator over it, with the write points' buckets already open.
struct Fixture: Sendable {
    let device: EmulatedDevice
    let allocator: BucketAllocator
    /// One write point per thread, resolved once.
    let writePoints: [WritePoint]

    /// 4 KiB.
    static let sectors = 8
    /// The write hints used (one per thread).
    static let hints: [WriteHint] = [.stream(1), .stream(2)]

    /// 16 zones of 1 TiB: 2^28 allocations of 4 KiB per bucket, far more than one benchmark run
    /// makes, so every measured allocation is the bump path.
    static func oneBucket() throws -> Fixture {
        try Fixture(geometry: EmulatedGeometry(zoneCount: 16, zoneSize: 1 << 40))
    }

    /// A 20 TB SMR-like drive: 74 506 zones of 256 MiB, 65 536 allocations of 4 KiB per bucket. A
    /// bucket switch (the last commit detaches the full bucket, the next reserve opens a new one)
    /// happens every 65 536 allocations, so the slow path is included, amortised.
    static func smr20TB() throws -> Fixture {
        try Fixture(geometry: EmulatedGeometry(zoneCount: 74_506, zoneSize: 256 << 20))
    }

    init(geometry: EmulatedGeometry) throws {
        device = try EmulatedDevice(geometry: geometry, storage: .metadataOnly)
        let allocator = try BucketAllocator(device: device)
        self.allocator = allocator
        writePoints = Fixture.hints.map { allocator.writePoint(for: $0) }
        // The first allocation of a write point opens its bucket (slow path): do it here, outside
        // the measurement.
        for writePoint in writePoints {
            allocator.commit(try allocator.reserve(sectors: Fixture.sectors, through: writePoint))
        }
    }
}

/// Allocations per second over one iteration, all threads together (larger is better).
let allocationsPerSecond = BenchmarkMetric.custom("Allocations / s", polarity: .prefersLarger, useScalingFactor: false)

let metrics: [BenchmarkMetric] = [
    .wallClock, .cpuTotal, .throughput, .mallocCountTotal, .instructions, allocationsPerSecond,
]

/// Reports `allocations` made since `start` as allocations per second.
func reportRate(_ benchmark: Benchmark, allocations: Int, since start: ContinuousClock.Instant) {
    let elapsed = start.duration(to: .now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    benchmark.measurement(allocationsPerSecond, Int((Double(allocations) / seconds).rounded()))
}

/// `count` reserve + commit pairs of 4 KiB through `writePoint`.
@inline(__always)
func reserveAndCommit(
    _ allocator: BucketAllocator,
    through writePoint: WritePoint,
    count: Range<Int>
) throws(AllocationError) {
    for _ in count {
        let reservation = try allocator.reserve(sectors: Fixture.sectors, through: writePoint)
        allocator.commit(reservation)
        blackHole(reservation)
    }
}

/// `count` reserve + commit pairs of 4 KiB through `hint` (looked up on every call).
@inline(__always)
func reserveAndCommit(_ allocator: BucketAllocator, hint: WriteHint, count: Range<Int>) throws(AllocationError) {
    for _ in count {
        let reservation = try allocator.reserve(sectors: Fixture.sectors, for: hint)
        allocator.commit(reservation)
        blackHole(reservation)
    }
}

/// Runs `body` once per thread (`threads` of them) and reports the allocations of all of them.
func runThreads(
    _ benchmark: Benchmark,
    threads: Int,
    _ body: @escaping @Sendable (Int) throws(AllocationError) -> Void
) {
    let start = ContinuousClock.now
    DispatchQueue.concurrentPerform(iterations: threads) { thread in
        do {
            try body(thread)
        } catch {
            fatalError("reserve failed: \(error)")
        }
    }
    reportRate(benchmark, allocations: benchmark.scaledIterations.count * threads, since: start)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: metrics,
        warmupIterations: 1,
        scalingFactor: .mega,
        maxDuration: .seconds(4),
        maxIterations: 100
    )

    // (a) The fast path: reserve + commit through a write point resolved once, always in the same
    // open bucket.
    Benchmark("reserve+commit 4KiB, one bucket (bump path)") { benchmark, fixture in
        let start = ContinuousClock.now
        do {
            try reserveAndCommit(fixture.allocator, through: fixture.writePoints[0], count: benchmark.scaledIterations)
        } catch {
            benchmark.error("reserve failed: \(error)")
            return
        }
        reportRate(benchmark, allocations: benchmark.scaledIterations.count, since: start)
    } setup: {
        try Fixture.oneBucket()
    }

    // (a') reserve alone (each reservation stays in flight; no commit).
    Benchmark("reserve 4KiB, one bucket (bump path, no commit)") { benchmark, fixture in
        let allocator = fixture.allocator
        let writePoint = fixture.writePoints[0]
        let start = ContinuousClock.now
        for _ in benchmark.scaledIterations {
            do {
                blackHole(try allocator.reserve(sectors: Fixture.sectors, through: writePoint))
            } catch {
                benchmark.error("reserve failed: \(error)")
                return
            }
        }
        reportRate(benchmark, allocations: benchmark.scaledIterations.count, since: start)
    } setup: {
        try Fixture.oneBucket()
    }

    // (a'') The convenience API: the same, passing the hint on every call (a hint lookup each time).
    Benchmark("reserve+commit 4KiB by hint, one bucket (hint lookup + bump path)") { benchmark, fixture in
        let start = ContinuousClock.now
        do {
            try reserveAndCommit(fixture.allocator, hint: Fixture.hints[0], count: benchmark.scaledIterations)
        } catch {
            benchmark.error("reserve failed: \(error)")
            return
        }
        reportRate(benchmark, allocations: benchmark.scaledIterations.count, since: start)
    } setup: {
        try Fixture.oneBucket()
    }

    // (a''') reserve + commit on a realistic geometry: the bucket switch every 65 536
    // allocations (detach, find a free bucket, open it) is included, amortised.
    Benchmark("reserve+commit 4KiB, 20TB SMR 256MiB zones (bucket switches included)") { benchmark, fixture in
        let start = ContinuousClock.now
        do {
            try reserveAndCommit(fixture.allocator, through: fixture.writePoints[0], count: benchmark.scaledIterations)
        } catch {
            benchmark.error("reserve failed: \(error)")
            return
        }
        reportRate(benchmark, allocations: benchmark.scaledIterations.count, since: start)
    } setup: {
        try Fixture.smr20TB()
    }

    // (b) Two threads on two write points (different buckets, each write point its own lock): how
    // the fast path scales on this 2-core machine. One iteration is 10^6 allocations per thread,
    // so the `*` metrics are per allocation *per thread*; `Allocations / s` counts both threads.
    Benchmark("reserve+commit 4KiB, 2 threads x 2 write points") { benchmark, fixture in
        let iterations = benchmark.scaledIterations
        runThreads(benchmark, threads: Fixture.hints.count) { thread throws(AllocationError) in
            try reserveAndCommit(fixture.allocator, through: fixture.writePoints[thread], count: iterations)
        }
    } setup: {
        try Fixture.oneBucket()
    }

    // (b') The same by hint: both threads look their hints up in the one hint directory.
    Benchmark("reserve+commit 4KiB by hint, 2 threads x 2 write points") { benchmark, fixture in
        let iterations = benchmark.scaledIterations
        runThreads(benchmark, threads: Fixture.hints.count) { thread throws(AllocationError) in
            try reserveAndCommit(fixture.allocator, hint: Fixture.hints[thread], count: iterations)
        }
    } setup: {
        try Fixture.oneBucket()
    }
}
