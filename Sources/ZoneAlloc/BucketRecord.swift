/// The allocator's in-memory record of one bucket (bcachefs's `struct bucket` plus the fields
/// of `bch_alloc_v4` that matter on zones). 20 bytes.
struct BucketRecord: Sendable, Hashable {
    /// Current generation.
    var generation = BucketGeneration(rawValue: 0)
    /// The oldest generation a live pointer into this bucket may still carry.
    var oldestGeneration = BucketGeneration(rawValue: 0)
    /// Live dirty sectors.
    var dirtySectors: UInt32 = 0
    /// Live cached sectors.
    var cachedSectors: UInt32 = 0
    /// Sectors handed out since the last reset: the allocator's write pointer. Equals the
    /// bucket's capacity after a finish. For the open bucket of a write point whose cursor is
    /// attached, this and the live counts lag by what the cursor handed out since (see
    /// ``WritePointCursor``).
    var allocatedSectors: UInt32 = 0
    /// A conventional, read-only or offline zone: never a bucket.
    var unusable = false
    /// In an open bucket (being written, or partially written and active).
    var isOpen = false
    /// A reset (generation increment + zone reset) is in progress.
    var resetting = false

    var liveSectors: UInt32 { dirtySectors + cachedSectors }

    /// The derived state (bcachefs's `alloc_data_type`).
    func state(bucketSectors: UInt32) -> BucketState {
        if unusable { return .unusable }
        if resetting { return .resetting }
        if isOpen { return .open }
        if dirtySectors > 0 { return .dirty }
        if cachedSectors > 0 { return .cached }
        if allocatedSectors > 0 { return .needsReset }
        if generation.distance(from: oldestGeneration) >= BucketGeneration.maxDistanceToOldest {
            return .needsGCGens
        }
        return .free
    }
}
