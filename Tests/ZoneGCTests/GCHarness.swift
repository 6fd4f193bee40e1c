import Foundation
import Synchronization
import Testing
import ZoneAlloc
import ZoneAllocTestSupport
import ZoneGC
import ZonedStorage

/// A memory-backed emulated device, an allocator, copygc and a ``TestOwner``, with writes that
/// go through copygc's recording API, and ``check()`` verifying every invariant the issue names
/// after each step.
final class GCHarness: Sendable {
    let device: EmulatedDevice
    let allocator: BucketAllocator
    let copygc: Copygc
    let owner = TestOwner()
    let ownerID: OwnerID
    let generations: InMemoryGenerationStore
    private let tags = Atomic<UInt64>(1)
    let blockSize: Int

    /// A small geometry: `zones` zones of 64 KiB with `capacity` bytes usable (48 KiB: 12 blocks
    /// of 4 KiB per bucket), no conventional zone, the given open/active limits.
    static func geometry(zones: Int = 16, capacity: UInt64 = 48 << 10, maxOpen: Int = 6, maxActive: Int = 8)
        -> EmulatedGeometry
    {
        EmulatedGeometry(
            zoneCount: zones,
            zoneSize: 64 << 10,
            zoneCapacity: capacity,
            logicalBlockSize: 4096,
            maxOpenZones: maxOpen,
            maxActiveZones: maxActive
        )
    }

    /// - Parameter wrap: the device the allocator (and so copygc) writes through, around the
    ///   emulated one (which the harness still reads and checks directly).
    init(
        geometry: EmulatedGeometry = GCHarness.geometry(),
        allocator allocatorConfiguration: AllocatorConfiguration = AllocatorConfiguration(
            copygcReserve: 0.2,
            metadataZoneSlots: 0,
            copygcZoneSlots: 1,
            allocationWaitLimit: 0.2
        ),
        copygc copygcConfiguration: CopygcConfiguration = CopygcConfiguration(
            startBelowFreeBuckets: 1,
            stopAtFreeBuckets: 2,
            checkIntervalSectors: 8
        ),
        device: EmulatedDevice? = nil,
        wrap: (EmulatedDevice) -> any ZonedDevice = { $0 }
    ) throws {
        self.device =
            try device
            ?? EmulatedDevice(geometry: geometry, storage: .memory, options: .init(writeCache: .writeThrough))
        self.generations = InMemoryGenerationStore()
        self.allocator = try BucketAllocator(
            device: wrap(self.device),
            configuration: allocatorConfiguration,
            generationStore: generations
        )
        self.copygc = try Copygc(allocator: allocator, configuration: copygcConfiguration)
        self.ownerID = try copygc.register(owner)
        self.blockSize = self.device.info.logicalBlockSize
    }

    deinit {
        copygc.stop()
        try? device.close()
    }

    /// Writes `blocks` blocks for `key` (one extent, one bucket), records it and marks the
    /// version it replaces dead. Returns the new pointer.
    @discardableResult
    func write(_ key: UInt64, blocks: Int = 1, hint: WriteHint = .stream(0), cached: Bool = false)
        throws(AllocationError)
        -> DataPointer
    {
        let tag = tags.add(1, ordering: .relaxed).newValue
        let bytes = AllocatorFixtures.payload(tag: tag, blocks: blocks, blockSize: blockSize)
        let pointers = try allocator.write(bytes, hint: hint, cached: cached, split: false)
        let pointer = pointers[0]
        copygc.recordWrite(pointer, owner: ownerID, key: key, hint: hint)
        if let old = owner.swap(key, to: pointer, tag: tag) { copygc.markDead(old) }
        return pointer
    }

    /// The tag of the last write (its bytes are `AllocatorFixtures.payload(tag:blocks:)`).
    var tag: UInt64 { tags.load(ordering: .relaxed) }

    /// Deletes `key`.
    func delete(_ key: UInt64) {
        if let old = owner.remove(key) { copygc.markDead(old) }
    }

    /// Reads what `pointer` points at.
    func read(_ pointer: DataPointer) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: pointer.byteCount)
        let offset = UInt64(pointer.bucket.zone) * device.info.zoneSize + UInt64(pointer.offset) * 512
        try bytes.withUnsafeMutableBytes { try device.read(into: $0, at: offset) }
        return bytes
    }

    /// Every invariant, as a list of problems (empty when all hold):
    /// - no live extent lost or duplicated: each dirty key has a live pointer whose bytes are the
    ///   key's latest data, and no two keys share a block;
    /// - accounting matches a recount: per bucket, the allocator's live sectors, copygc's
    ///   backpointer counts, and the owner's pointers agree, and so do the totals;
    /// - backpointers name exactly the owner's live extents;
    /// - reset buckets hold nothing live: a free bucket has no live pointer into it;
    /// - open / active zones within the device limits and the allocator's own invariants.
    func problems(readData: Bool = true) -> [String] {
        var problems: [String] = []
        let entries = owner.snapshot
        var perBucket: [Int: (dirty: Int, cached: Int)] = [:]
        var blocksSeen: [Int: UInt64] = [:]
        var dirtyTotal = 0
        for (key, entry) in entries {
            let pointer = entry.pointer
            let stale = allocator.isStale(pointer)
            if pointer.isCached, stale { continue }  // dropped cached data: allowed
            if stale {
                problems.append("key \(key): dirty pointer \(pointer) is stale (extent lost)")
                continue
            }
            let bucket = pointer.bucket.zone
            var counts = perBucket[bucket] ?? (0, 0)
            if pointer.isCached { counts.cached += Int(pointer.sectors) } else { counts.dirty += Int(pointer.sectors) }
            perBucket[bucket] = counts
            if !pointer.isCached { dirtyTotal += Int(pointer.sectors) }
            for sector in stride(from: Int(pointer.offset), to: Int(pointer.offset + pointer.sectors), by: 8) {
                let block = bucket * 1_000_000 + sector
                if let other = blocksSeen[block] {
                    problems.append("keys \(other) and \(key) share block \(sector) of bucket \(bucket)")
                }
                blocksSeen[block] = key
            }
            if readData {
                do {
                    let expected = AllocatorFixtures.payload(
                        tag: entry.tag,
                        blocks: pointer.byteCount / blockSize,
                        blockSize: blockSize
                    )
                    if try read(pointer) != expected {
                        problems.append("key \(key): data at \(pointer) is not its own")
                    }
                } catch {
                    problems.append("key \(key): reading \(pointer) failed: \(error)")
                }
            }
        }
        let stats = allocator.statistics()
        if stats.dirtySectors != dirtyTotal {
            problems.append("allocator counts \(stats.dirtySectors) dirty sectors, the owner holds \(dirtyTotal)")
        }
        for zone in 0..<device.info.zoneCount {
            let bucket = BucketIndex(zone)
            let live = allocator.liveSectors(of: bucket)
            let owned = perBucket[zone] ?? (0, 0)
            if live.dirty != owned.dirty || live.cached != owned.cached {
                problems.append("\(bucket): allocator live \(live), owner \(owned)")
            }
            let recorded = copygc.recordedLiveSectors(of: bucket)
            if recorded.dirty != owned.dirty || recorded.cached != owned.cached {
                problems.append("\(bucket): backpointers count \(recorded), owner \(owned)")
            }
            let backpointers = copygc.backpointers(in: bucket)
            for backpointer in backpointers {
                guard let entry = entries[backpointer.key], backpointer.owner == ownerID,
                    backpointer.pointer.bucket == entry.pointer.bucket,
                    backpointer.pointer.offset == entry.pointer.offset,
                    backpointer.pointer.generation == entry.pointer.generation
                else {
                    problems.append(
                        "\(bucket): backpointer \(backpointer.key) → \(backpointer.pointer) has no owner extent"
                    )
                    continue
                }
            }
            let state = allocator.state(of: bucket)
            if state == .free, owned.dirty + owned.cached > 0 {
                problems.append("\(bucket) is free (reset) but holds \(owned) live sectors")
            }
            if state == .free, !backpointers.isEmpty {
                problems.append("\(bucket) is free but has \(backpointers.count) backpointers")
            }
        }
        let usage = device.resourceUsage()
        if device.info.maxOpenZones.value.map({ usage.open > $0 }) == true {
            problems.append("\(usage.open) open zones exceed the limit \(device.info.maxOpenZones)")
        }
        if device.info.maxActiveZones.value.map({ usage.active > $0 }) == true {
            problems.append("\(usage.active) active zones exceed the limit \(device.info.maxActiveZones)")
        }
        if stats.openBuckets > stats.zoneBudget {
            problems.append("\(stats.openBuckets) open buckets exceed the zone budget \(stats.zoneBudget)")
        }
        allocator.checkInvariants()
        if let mismatches = try? allocator.deviceMismatches(), !mismatches.isEmpty {
            problems += mismatches.map { "device: \($0)" }
        }
        return problems
    }
}
