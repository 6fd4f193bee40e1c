import ZoneAlloc

/// The backpointers of every bucket (bcachefs's backpointers btree, bucket → extents), plus what
/// copygc's victim policies need per bucket: live sectors, when it was opened, its youngest data
/// and the lifetime class written into it.
///
/// Layout: one flat table of slots, `slotsPerBucket` per bucket, direct-mapped by offset (one
/// slot per logical block; extents start on block boundaries), so recording and removing a
/// backpointer is O(1) and a bucket's extents come out in offset order. A bucket's slots belong
/// to one generation; a write at a newer generation means the bucket was reset (invalidated by
/// the allocator, for example) and clears whatever was left. The batch operations touch the
/// tables through unsafe buffers: one uniqueness check per batch, not per field.
struct BackpointerIndex: Sendable {
    /// One stored backpointer; `sectors == 0` marks an empty slot. 24 bytes.
    struct Slot: Sendable {
        var key: UInt64 = 0
        var writtenAt: UInt64 = 0
        var sectors: UInt32 = 0
        var owner: UInt16 = 0
        var isCached = false

        static let empty = Slot()
    }

    /// Per-bucket record.
    struct Bucket: Sendable {
        /// The generation the slots belong to (nil: never written).
        var generation: BucketGeneration?
        /// One past the highest slot used since the slots were last cleared.
        var used = 0
        var extents = 0
        var dirtySectors: UInt32 = 0
        var cachedSectors: UInt32 = 0
        /// Write clock when the first extent of this generation was recorded.
        var openedAt: UInt64 = 0
        /// Newest `writtenAt` of any extent recorded in this generation (Sprite LFS's segment age).
        var youngest: UInt64 = 0
        /// Lifetime class of the write point that filled it (``LifetimeClassifier``), or
        /// `unclassified`.
        var lifetimeClass: UInt8 = unclassified
    }

    /// One backpointer to record.
    struct Insertion: Sendable {
        var pointer: DataPointer
        var key: UInt64
        var owner: UInt16
        var writtenAt: UInt64
        var lifetimeClass: UInt8
    }

    static let unclassified: UInt8 = .max

    let slotSectors: UInt32
    /// log2 of ``slotSectors`` (block sizes are powers of two): offsets become slots by a
    /// shift, not a division, on the per-extent paths.
    let slotShift: UInt32
    /// ``slotSectors`` − 1, the mask of an offset's position inside its block.
    let slotMask: UInt32
    let slotsPerBucket: Int
    private(set) var buckets: [Bucket]
    private(set) var slots: [Slot]

    init(bucketCount: Int, bucketSectors: Int, blockSectors: Int) {
        precondition(blockSectors > 0 && blockSectors & (blockSectors - 1) == 0, "blocks of \(blockSectors) sectors")
        self.slotSectors = UInt32(blockSectors)
        self.slotShift = UInt32(blockSectors.trailingZeroBitCount)
        self.slotMask = UInt32(blockSectors - 1)
        self.slotsPerBucket = bucketSectors / blockSectors
        self.buckets = Array(repeating: Bucket(), count: bucketCount)
        self.slots = HugePageArray.make(repeating: Slot.empty, count: bucketCount * (bucketSectors / blockSectors))
    }

    /// Records `count` backpointers, `entry(i)` giving each, at write clock `now`. Returns the
    /// index of the first entry whose slot is taken by another extent of the same generation
    /// (a caller bug; nothing from it on is recorded), or nil.
    mutating func insert(count: Int, now: UInt64, _ entry: (Int) -> Insertion) -> Int? {
        let slotSectors = self.slotSectors
        let slotShift = self.slotShift
        let slotMask = self.slotMask
        let slotsPerBucket = self.slotsPerBucket
        return buckets.withUnsafeMutableBufferPointer { buckets in
            slots.withUnsafeMutableBufferPointer { slots in
                for index in 0..<count {
                    let insertion = entry(index)
                    let pointer = insertion.pointer
                    let zone = pointer.bucket.zone
                    precondition(zone < buckets.count, "backpointer for \(pointer.bucket), which does not exist")
                    precondition(
                        pointer.offset & slotMask == 0 && pointer.sectors > 0,
                        "extent \(pointer) does not start on a \(slotSectors)-sector block boundary"
                    )
                    let slot = Int(pointer.offset >> slotShift)
                    precondition(slot < slotsPerBucket, "extent \(pointer) starts beyond the bucket")
                    if buckets[zone].generation != pointer.generation {
                        if let current = buckets[zone].generation {
                            precondition(
                                pointer.generation.isAfter(current),
                                "backpointer at \(pointer.generation) for bucket \(zone), whose backpointers are at "
                                    + "the newer \(current)"
                            )
                        }
                        Self.clear(zone, buckets: buckets, slots: slots, slotsPerBucket: slotsPerBucket)
                        buckets[zone].generation = pointer.generation
                    }
                    let at = zone * slotsPerBucket + slot
                    guard slots[at].sectors == 0 else { return index }
                    slots[at] = Slot(
                        key: insertion.key,
                        writtenAt: insertion.writtenAt,
                        sectors: pointer.sectors,
                        owner: insertion.owner,
                        isCached: pointer.isCached
                    )
                    if buckets[zone].extents == 0 { buckets[zone].openedAt = now }
                    buckets[zone].used = max(buckets[zone].used, slot + 1)
                    buckets[zone].extents += 1
                    if pointer.isCached {
                        buckets[zone].cachedSectors += pointer.sectors
                    } else {
                        buckets[zone].dirtySectors += pointer.sectors
                    }
                    buckets[zone].youngest = max(buckets[zone].youngest, insertion.writtenAt)
                    if insertion.lifetimeClass != Self.unclassified {
                        buckets[zone].lifetimeClass = insertion.lifetimeClass
                    }
                }
                return nil
            }
        }
    }

    /// Removes the backpointers of `pointers`; those without one (stale, or recorded before
    /// copygc was attached) are skipped. Returns the sectors of all `pointers`.
    mutating func remove(_ pointers: [DataPointer]) -> Int {
        let slotShift = self.slotShift
        let slotMask = self.slotMask
        let slotsPerBucket = self.slotsPerBucket
        var sectors = 0
        buckets.withUnsafeMutableBufferPointer { buckets in
            slots.withUnsafeMutableBufferPointer { slots in
                // Overwrites kill extents all over the device: each slot is a cache miss. Touch
                // them first in a loop of independent loads so the misses overlap, counting
                // the slots that may hold one of `pointers` (none: nothing to remove).
                var candidates = 0
                for pointer in pointers {
                    let zone = pointer.bucket.zone
                    guard zone < buckets.count else { continue }
                    let at = zone &* slotsPerBucket &+ min(Int(pointer.offset >> slotShift), slotsPerBucket - 1)
                    candidates &+= slots[at].sectors == pointer.sectors ? 1 : 0
                }
                for pointer in pointers {
                    sectors += Int(pointer.sectors)
                    guard candidates > 0 else { continue }
                    let zone = pointer.bucket.zone
                    guard zone < buckets.count, buckets[zone].generation == pointer.generation,
                        pointer.offset & slotMask == 0
                    else { continue }
                    let slot = Int(pointer.offset >> slotShift)
                    guard slot < buckets[zone].used else { continue }
                    let at = zone * slotsPerBucket + slot
                    let entry = slots[at]
                    guard entry.sectors == pointer.sectors, entry.isCached == pointer.isCached else { continue }
                    slots[at] = .empty
                    buckets[zone].extents -= 1
                    if entry.isCached {
                        buckets[zone].cachedSectors -= entry.sectors
                    } else {
                        buckets[zone].dirtySectors -= entry.sectors
                    }
                }
            }
        }
        return sectors
    }

    /// The backpointer of `pointer`, if recorded.
    func lookup(_ pointer: DataPointer) -> Slot? {
        let zone = pointer.bucket.zone
        guard zone < buckets.count, buckets[zone].generation == pointer.generation,
            pointer.offset & slotMask == 0
        else { return nil }
        let slot = Int(pointer.offset >> slotShift)
        guard slot < buckets[zone].used else { return nil }
        let entry = slots[zone * slotsPerBucket + slot]
        guard entry.sectors == pointer.sectors, entry.isCached == pointer.isCached else { return nil }
        return entry
    }

    /// Calls `body` with each backpointer of `bucket` at `generation`, in offset order (none
    /// when the recorded slots belong to another generation).
    func forEach(in bucket: BucketIndex, generation: BucketGeneration, _ body: (Backpointer) -> Void) {
        let record = buckets[bucket.zone]
        guard record.generation == generation, record.extents > 0 else { return }
        let base = bucket.zone * slotsPerBucket
        slots.withUnsafeBufferPointer { slots in
            for index in 0..<record.used where slots[base + index].sectors > 0 {
                let slot = slots[base + index]
                body(
                    Backpointer(
                        owner: OwnerID(rawValue: slot.owner),
                        key: slot.key,
                        pointer: DataPointer(
                            bucket: bucket,
                            offset: UInt32(index) * slotSectors,
                            sectors: slot.sectors,
                            generation: generation,
                            isCached: slot.isCached
                        ),
                        writtenAt: slot.writtenAt
                    )
                )
            }
        }
    }

    /// The backpointers of `bucket` at `generation`, in offset order.
    func backpointers(of bucket: BucketIndex, generation: BucketGeneration) -> [Backpointer] {
        var result: [Backpointer] = []
        result.reserveCapacity(buckets[bucket.zone].extents)
        forEach(in: bucket, generation: generation) { result.append($0) }
        return result
    }

    /// Forgets every backpointer of `bucket` (it was reset: its pointers are stale).
    mutating func clear(_ bucket: BucketIndex) {
        let slotsPerBucket = self.slotsPerBucket
        buckets.withUnsafeMutableBufferPointer { buckets in
            slots.withUnsafeMutableBufferPointer { slots in
                Self.clear(bucket.zone, buckets: buckets, slots: slots, slotsPerBucket: slotsPerBucket)
            }
        }
    }

    private static func clear(
        _ zone: Int,
        buckets: UnsafeMutableBufferPointer<Bucket>,
        slots: UnsafeMutableBufferPointer<Slot>,
        slotsPerBucket: Int
    ) {
        let base = zone * slotsPerBucket
        for index in 0..<buckets[zone].used { slots[base + index] = .empty }
        buckets[zone].used = 0
        buckets[zone].extents = 0
        buckets[zone].dirtySectors = 0
        buckets[zone].cachedSectors = 0
        buckets[zone].youngest = 0
        buckets[zone].lifetimeClass = unclassified
    }
}
