// Memory per bucket and per stored extent, from glibc's heap counters (`mallinfo2`, one arena).
//
//   MemoryFootprintProbe [buckets=16384,65536] [gc-buckets=2048,8192] [keys=36000,144000]
//
// Each figure is the heap growth of building a structure at two sizes, and the difference of
// the two growths over the difference of the sizes: fixed costs (tables sized by a constant,
// thread stacks, the first page of a dictionary) cancel out.
//
// - Allocator per bucket (target ≤ 64 bytes): `BucketAllocator` over a metadata-only emulated
//   device of N zones of 256 MiB (the device is built first and not counted; its own per-zone
//   state is printed for reference).
// - Copygc per bucket: `Copygc` over such an allocator, with zones of 1 MiB and of 4 MiB, which
//   separates its per-bucket record from its backpointer slots (one per block of capacity,
//   preallocated), and extrapolates both to 256 MiB zones.
// - Store per extent (target ≤ 64 bytes plus the key): a store holding K keys, each with a
//   one-block value (one extent), on a memory-backed device of the same geometry for both sizes,
//   is closed and opened again; the heap growth of `open` (index, key ↔ id map, per-bucket key
//   sets, copygc backpointers, allocator accounting) per key, minus the heap taken by the key's
//   own bytes (measured by building the same keys alone), is the cost per extent. Copygc's
//   backpointer slots are preallocated per block, so they do not show in this difference: they
//   are printed with the copygc figures. The default key counts put Swift's hash tables (which
//   double at 3/4 full) at the same load, 0.55, at both sizes: per-key figures at other counts
//   move by up to the table's slot size times 1.3 either way.

import ProbeSupport
import ZoneAlloc
import ZoneGC
import ZoneStore
import ZonedStorage

#if canImport(Glibc)
import Glibc
#endif

Measure.useOneArena()
let arguments = ProbeArguments()
let bucketCounts = arguments.integers("buckets", default: [16_384, 65_536])
let gcBucketCounts = arguments.integers("gc-buckets", default: [2_048, 8_192])
let keyCounts = arguments.integers("keys", default: [36_000, 144_000])
guard bucketCounts.count == 2, gcBucketCounts.count == 2, keyCounts.count == 2 else {
    print("MemoryFootprintProbe: buckets=, gc-buckets= and keys= take two sizes each")
    exit(64)
}

/// Heap growth of `body`'s result while it is alive (`keep` holds it until measured).
func heapGrowth<T>(_ body: () throws -> T) rethrows -> (Int, T) {
    let before = Measure.heapInUse()
    let value = try body()
    return (Measure.heapInUse() - before, value)
}

/// Per-unit cost from two sizes: (growth₂ − growth₁) / (size₂ − size₁).
func slope(_ sizes: [Int], _ growths: [Int]) -> Double {
    Double(growths[1] - growths[0]) / Double(sizes[1] - sizes[0])
}

func bytes(_ value: Double) -> String { Format.fixed(value, digits: 1) }

print("memory footprint, glibc heap in use (mallinfo2, one arena); \(Measure.machine())")
do {
    // MARK: Allocator per bucket
    var deviceGrowth: [Int] = []
    var allocatorGrowth: [Int] = []
    for count in bucketCounts {
        let geometry = EmulatedGeometry(zoneCount: count, zoneSize: 256 << 20)
        let (deviceBytes, device) = try heapGrowth { try EmulatedDevice(geometry: geometry, storage: .metadataOnly) }
        let (allocatorBytes, allocator) = try heapGrowth { try BucketAllocator(device: device) }
        deviceGrowth.append(deviceBytes)
        allocatorGrowth.append(allocatorBytes)
        print(
            "  \(count) zones of 256 MiB: emulated device \(deviceBytes) B, allocator \(allocatorBytes) B "
                + "(\(allocator.bucketSectors) sectors per bucket)"
        )
        withExtendedLifetime((device, allocator)) {}
    }
    let perBucket = slope(bucketCounts, allocatorGrowth)
    let devicePerZone = slope(bucketCounts, deviceGrowth)
    print(
        "allocator: \(bytes(perBucket)) B per bucket; emulated device (reference): \(bytes(devicePerZone)) B per zone"
    )
    ProbeResult(
        "allocator-memory",
        "bytes-per-bucket",
        perBucket,
        target: (.atMost, 64),
        context: [
            ("device-bytes-per-zone", bytes(devicePerZone)),
            ("buckets", bucketCounts.map(String.init).joined(separator: ",")),
        ]
    ).print()

    // MARK: Copygc per bucket and per block
    var gcPerBucket: [UInt64: Double] = [:]
    for zoneSize: UInt64 in [1 << 20, 4 << 20] {
        var growths: [Int] = []
        for count in gcBucketCounts {
            let geometry = EmulatedGeometry(zoneCount: count, zoneSize: zoneSize)
            let device = try EmulatedDevice(geometry: geometry, storage: .metadataOnly)
            let allocator = try BucketAllocator(device: device)
            let (gcBytes, collector) = try heapGrowth { try Copygc(allocator: allocator) }
            growths.append(gcBytes)
            withExtendedLifetime((device, allocator, collector)) {}
        }
        gcPerBucket[zoneSize] = slope(gcBucketCounts, growths)
    }
    let blocksSmall = Double((1 << 20) / 4096)
    let blocksLarge = Double((4 << 20) / 4096)
    let perBlock = (gcPerBucket[4 << 20]! - gcPerBucket[1 << 20]!) / (blocksLarge - blocksSmall)
    let gcFixed = gcPerBucket[1 << 20]! - perBlock * blocksSmall
    let smrBlocks = Double((256 << 20) / 4096)
    print(
        "copygc: \(bytes(gcPerBucket[1 << 20]!)) B per 1 MiB bucket, \(bytes(gcPerBucket[4 << 20]!)) B per 4 MiB "
            + "bucket → \(bytes(gcFixed)) B per bucket + \(bytes(perBlock)) B per 4 KiB block of capacity "
            + "(backpointer slots, preallocated); at 256 MiB zones: "
            + "\(bytes(gcFixed + perBlock * smrBlocks)) B per bucket"
    )
    ProbeResult(
        "copygc-memory",
        "bytes-per-block",
        perBlock,
        context: [
            ("bytes-per-bucket", bytes(gcFixed)),
            ("bytes-per-256MiB-bucket", bytes(gcFixed + perBlock * smrBlocks)),
            ("bytes-per-TB-of-capacity", bytes(perBlock * 1e12 / 4096)),
        ]
    ).print()

    // MARK: Store per extent
    let blockSize = 512
    let zoneSize: UInt64 = 16 << 20
    let largest = keyCounts.max()!
    let geometry = EmulatedGeometry(
        zoneCount: Int(UInt64(largest * (blockSize + 256)) * 2 / zoneSize) + 12,
        zoneSize: zoneSize,
        conventionalZones: 1,
        logicalBlockSize: blockSize,
        maxOpenZones: 14,
        maxActiveZones: 14
    )
    let options = OpenOptions(logger: quietLogger(), copygcOnDemand: false)
    let value = Measure.pseudoRandomBytes(count: blockSize)
    var openGrowth: [Int] = []
    var keyGrowth: [Int] = []
    var keyLength = 0.0
    for count in keyCounts {
        let device = try EmulatedDevice(geometry: geometry, storage: .memory)
        try ZoneStore.format(device)
        do {
            let store = try ZoneStore.open(device, options: options)
            for index in 0..<count { try store.put(StoreKey("key-\(index)"), value, durability: .buffered) }
            try store.close()
        }
        let (storeBytes, store) = try heapGrowth { try ZoneStore.open(device, options: options) }
        guard store.count == count else {
            print("MemoryFootprintProbe: the store reopened with \(store.count) keys, expected \(count)")
            exit(1)
        }
        try store.close()
        openGrowth.append(storeBytes)
        // The keys alone (their array's own 8 bytes per element taken out).
        let (keysBytes, keys) = heapGrowth { (0..<count).map { StoreKey("key-\($0)") } }
        keyGrowth.append(keysBytes - 8 * count)
        keyLength = Double(keys.reduce(0) { $0 + $1.bytes.count }) / Double(count)
        print("  \(count) keys: open grew the heap by \(storeBytes) B; the keys alone take \(keysBytes - 8 * count) B")
        withExtendedLifetime((device, store, keys)) {}
    }
    print(
        "  layouts: IndexEntry \(MemoryLayout<IndexEntry>.stride) B, StoredExtent \(MemoryLayout<StoredExtent>.stride) B, "
            + "DataPointer \(MemoryLayout<DataPointer>.stride) B, StoreKey \(MemoryLayout<StoreKey>.stride) B"
    )
    let perKey = slope(keyCounts, openGrowth)
    let perKeyBytes = slope(keyCounts, keyGrowth)
    let perExtent = perKey - perKeyBytes
    print(
        "store: \(bytes(perKey)) B per key with one extent, of which the key's bytes take \(bytes(perKeyBytes)) B "
            + "(keys of \(Format.fixed(keyLength, digits: 1)) bytes): \(bytes(perExtent)) B per extent plus the key"
    )
    ProbeResult(
        "store-memory",
        "bytes-per-extent",
        perExtent,
        target: (.atMost, 64),
        context: [
            ("bytes-per-key-total", bytes(perKey)),
            ("key-bytes", bytes(perKeyBytes)),
            ("key-length", Format.fixed(keyLength, digits: 1)),
            ("plus-copygc-slot-per-4KiB-block", bytes(perBlock)),
        ]
    ).print()
} catch {
    print("MemoryFootprintProbe: \(error)")
    exit(1)
}
