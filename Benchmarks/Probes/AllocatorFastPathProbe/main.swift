// A minimal driver of the allocation fast path for `valgrind --tool=callgrind`
// (tools/bench-alloc-callgrind.sh).
//
//   AllocatorFastPathProbe <reserve|reserve-commit> <count> [one-bucket|smr-20tb]
//
// It builds a metadata-only emulated device and an allocator, makes one warm-up allocation (which
// opens the write point's bucket: the slow path), then `count` more allocations of 4 KiB through
// the same write point. Everything but the loop is identical for every count, so
// `(instructions(count) − instructions(0)) / count` is the cost of one allocation.
//
// Geometries:
// - `one-bucket` (default): 16 zones of 1 TiB, so up to 2^28 allocations of 4 KiB stay in the
//   first bucket: the loop is the bump path only, and the probe checks that.
// - `smr-20tb`: a 20 TB SMR-like drive, 74 506 zones of 256 MiB (65 536 allocations of 4 KiB per
//   bucket): the loop includes a bucket switch (commit of a full bucket, opening the next one)
//   every 65 536 allocations, amortised. Only meaningful with `reserve-commit`.

import ZoneAlloc
import ZonedStorage

#if canImport(Glibc)
import Glibc
#endif

enum Mode: String {
    case reserve
    case reserveCommit = "reserve-commit"
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

let arguments = CommandLine.arguments
guard arguments.count >= 3, let mode = Mode(rawValue: arguments[1]), let count = Int(arguments[2]), count >= 0 else {
    fail("usage: AllocatorFastPathProbe <reserve|reserve-commit> <count> [one-bucket|smr-20tb]")
}
let choice: GeometryChoice
if arguments.count >= 4 {
    guard let parsed = GeometryChoice(rawValue: arguments[3]) else { fail("unknown geometry '\(arguments[3])'") }
    choice = parsed
} else {
    choice = .oneBucket
}
if mode == .reserve, choice == .smr20TB {
    fail("reserve without commit on smr-20tb would keep every filled bucket open; use reserve-commit")
}

let sectors = 8  // 4 KiB in 512-byte sectors
let hint = WriteHint.stream(1)

do {
    let device = try EmulatedDevice(geometry: choice.geometry, storage: .metadataOnly)
    let allocator = try BucketAllocator(device: device)
    let sectorsPerBucket = UInt32(allocator.bucketSectors)

    // Warm-up: the write point gets its bucket here (slow path), in every mode and count.
    let first = try allocator.reserve(sectors: sectors, for: hint)
    allocator.commit(first)

    var last = first
    switch mode {
    case .reserve:
        for _ in 0..<count {
            last = try allocator.reserve(sectors: sectors, for: hint)
        }
    case .reserveCommit:
        for _ in 0..<count {
            let reservation = try allocator.reserve(sectors: sectors, for: hint)
            allocator.commit(reservation)
            last = reservation
        }
    }

    // Check the loop did what it claims (outside the measured loop: O(1)).
    let firstPointer = first.pieces[0].pointer
    let lastPointer = last.pieces[0].pointer
    let allocations = UInt64(count) + 1
    let expectedBuckets = (allocations * UInt64(sectors) + UInt64(sectorsPerBucket) - 1) / UInt64(sectorsPerBucket)
    let expectedOffset = UInt32((UInt64(count) * UInt64(sectors)) % UInt64(sectorsPerBucket))
    guard last.pieces.count == 1, lastPointer.offset == expectedOffset else {
        fail("unexpected reservation \(lastPointer) after \(count) allocations (expected offset \(expectedOffset))")
    }
    if choice == .oneBucket, lastPointer.bucket != firstPointer.bucket {
        fail("the loop left the first bucket (\(firstPointer.bucket) → \(lastPointer.bucket)); lower the count")
    }
    print(
        "mode=\(mode.rawValue) geometry=\(choice.rawValue) count=\(count) bucketSectors=\(sectorsPerBucket) "
            + "bucketsUsed=\(expectedBuckets) first=\(firstPointer) last=\(lastPointer)"
    )
} catch {
    fail("\(error)")
}
