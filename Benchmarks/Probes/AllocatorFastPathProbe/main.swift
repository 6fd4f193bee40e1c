// A minimal driver of the allocation fast path, for `valgrind --tool=callgrind` and for a plain
// timing (tools/bench-alloc-callgrind.sh).
//
//   AllocatorFastPathProbe <mode> <count> [one-bucket|smr-20tb] [threads]
//
// Modes: `reserve` and `reserve-commit` allocate through a `WritePoint` resolved once (the hot
// path a store uses); `reserve-hint` and `reserve-commit-hint` pass a `WriteHint` on every call
// (the convenience API, which looks the hint up each time).
//
// It builds a metadata-only emulated device and an allocator, makes one warm-up allocation per
// thread (which opens the write point's bucket: the slow path), then `count` more allocations of
// 4 KiB per thread, each thread through its own write point. Everything but the loop is the same
// for every count, so under callgrind `(instructions(count) − instructions(0)) / count` is the
// cost of one allocation (use 1 thread there). It prints the loop's wall time per allocation and
// allocations per second (all threads together) on the last line.
//
// Geometries:
// - `one-bucket` (default): 16 zones of 1 TiB, so up to 2^28 allocations of 4 KiB stay in the
//   first bucket: the loop is the bump path only, and the probe checks that.
// - `smr-20tb`: a 20 TB SMR-like drive, 74 506 zones of 256 MiB (65 536 allocations of 4 KiB per
//   bucket): the loop includes a bucket switch (commit of a full bucket, opening the next one)
//   every 65 536 allocations, amortised. Only meaningful with the commit modes.

import Dispatch
import ZoneAlloc
import ZonedStorage

#if canImport(Glibc)
import Glibc
#endif

enum Mode: String, CaseIterable {
    case reserve
    case reserveCommit = "reserve-commit"
    case reserveHint = "reserve-hint"
    case reserveCommitHint = "reserve-commit-hint"

    var commits: Bool { self == .reserveCommit || self == .reserveCommitHint }
    var usesHint: Bool { self == .reserveHint || self == .reserveCommitHint }
}

enum GeometryChoice: String {
    case oneBucket = "one-bucket"
    case smr20TB = "smr-20tb"

    var geometry: EmulatedGeometry {
        switch self {
        case .oneBucket: EmulatedGeometry(zoneCount: 16, zoneSize: 1 << 40)
        case .smr20TB: EmulatedGeometry(zoneCount: 74_506, zoneSize: 256 << 20)
        }
    }
}

func fail(_ message: String) -> Never {
    print("AllocatorFastPathProbe: \(message)")
    exit(64)
}

let usage =
    "usage: AllocatorFastPathProbe <\(Mode.allCases.map(\.rawValue).joined(separator: "|"))> <count> "
    + "[one-bucket|smr-20tb] [threads]"
let arguments = CommandLine.arguments
guard arguments.count >= 3, let mode = Mode(rawValue: arguments[1]), let count = Int(arguments[2]), count >= 0 else {
    fail(usage)
}
let choice: GeometryChoice
if arguments.count >= 4 {
    guard let parsed = GeometryChoice(rawValue: arguments[3]) else { fail("unknown geometry '\(arguments[3])'") }
    choice = parsed
} else {
    choice = .oneBucket
}
let threads = arguments.count >= 5 ? Int(arguments[4]) ?? 0 : 1
guard (1...8).contains(threads) else { fail("threads must be 1–8") }
if !mode.commits, choice == .smr20TB {
    fail("reserve without commit on smr-20tb would keep every filled bucket open; use a commit mode")
}

/// One run's parameters and its loop.
struct Probe: Sendable {
    let mode: Mode
    let count: Int
    let choice: GeometryChoice
    /// 4 KiB in 512-byte sectors.
    let sectors = 8

    /// One thread's allocations: `count` through `hint` (resolved once unless the mode passes the
    /// hint each time). Returns the first (warm-up) and the last reservation.
    func run(_ allocator: BucketAllocator, hint: WriteHint) throws(AllocationError) -> (Reservation, Reservation) {
        let writePoint = allocator.writePoint(for: hint)
        let first = try allocator.reserve(sectors: sectors, through: writePoint)
        allocator.commit(first)
        var last = first
        switch mode {
        case .reserve:
            for _ in 0..<count { last = try allocator.reserve(sectors: sectors, through: writePoint) }
        case .reserveCommit:
            for _ in 0..<count {
                last = try allocator.reserve(sectors: sectors, through: writePoint)
                allocator.commit(last)
            }
        case .reserveHint:
            for _ in 0..<count { last = try allocator.reserve(sectors: sectors, for: hint) }
        case .reserveCommitHint:
            for _ in 0..<count {
                last = try allocator.reserve(sectors: sectors, for: hint)
                allocator.commit(last)
            }
        }
        return (first, last)
    }

    /// Checks the loop did what it claims (outside the measured loop: O(1)).
    func check(first: Reservation, last: Reservation, sectorsPerBucket: UInt32) {
        guard let firstPointer = first.firstPiece?.pointer, let lastPointer = last.firstPiece?.pointer else {
            fail("empty reservation")
        }
        let expectedOffset = UInt32((UInt64(count) * UInt64(sectors)) % UInt64(sectorsPerBucket))
        guard last.pieceCount == 1, lastPointer.offset == expectedOffset else {
            fail("unexpected reservation \(lastPointer) after \(count) allocations (expected offset \(expectedOffset))")
        }
        if choice == .oneBucket, lastPointer.bucket != firstPointer.bucket {
            fail("the loop left the first bucket (\(firstPointer.bucket) → \(lastPointer.bucket)); lower the count")
        }
    }
}

/// Per-thread results. Each thread writes only its own index, before `concurrentPerform` returns.
final class Results: @unchecked Sendable {
    var reservations: [(Reservation, Reservation)?]
    var errors: [String]
    init(_ count: Int) {
        reservations = Array(repeating: nil, count: count)
        errors = Array(repeating: "", count: count)
    }
}

/// `value` with one decimal.
func oneDecimal(_ value: Double) -> String {
    let tenths = Int((value * 10).rounded())
    return "\(tenths / 10).\(tenths % 10)"
}

let probe = Probe(mode: mode, count: count, choice: choice)
do {
    let device = try EmulatedDevice(geometry: choice.geometry, storage: .metadataOnly)
    let allocator = try BucketAllocator(device: device)
    let sectorsPerBucket = UInt32(allocator.bucketSectors)
    let results = Results(threads)
    let start = ContinuousClock.now
    if threads == 1 {
        results.reservations[0] = try probe.run(allocator, hint: .stream(1))
    } else {
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            do {
                results.reservations[thread] = try probe.run(allocator, hint: .stream(UInt64(thread + 1)))
            } catch {
                results.errors[thread] = "\(error)"
            }
        }
    }
    let elapsed = start.duration(to: .now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    for (thread, error) in results.errors.enumerated() where !error.isEmpty { fail("thread \(thread): \(error)") }
    for case let (first, last)? in results.reservations {
        probe.check(first: first, last: last, sectorsPerBucket: sectorsPerBucket)
    }
    let (first, last) = results.reservations[0]!
    let allocations = Double(count * threads)
    print(
        "mode=\(mode.rawValue) geometry=\(choice.rawValue) count=\(count) threads=\(threads) "
            + "bucketSectors=\(sectorsPerBucket) first=\(first.firstPiece!.pointer) last=\(last.firstPiece!.pointer)"
    )
    let nanoseconds = allocations > 0 ? seconds * 1e9 / allocations : 0
    let rate = seconds > 0 ? allocations / seconds : 0
    print("time: \(oneDecimal(nanoseconds)) ns/allocation, \(Int(rate.rounded())) allocations/s")
} catch {
    fail("\(error)")
}
