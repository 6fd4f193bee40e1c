/// A snapshot of the allocator's accounting, as data (bcachefs's `bch2_dev_usage_to_text`).
public struct AllocatorStatistics: Sendable, Hashable, Codable {
    /// Buckets in each state.
    public var bucketsByState: [BucketState: Int]
    /// Total buckets (sequential zones usable as buckets).
    public var bucketCount: Int
    /// Capacity of one bucket in sectors.
    public var bucketSectors: Int
    /// Zone slots taken by open buckets now: each is an open or active zone on the device, or
    /// becomes one only after the write before it in its write point's chain filled a zone (see
    /// ``zoneBudget``). The device's active zones never exceed this; the number of buckets in
    /// the open state is in ``bucketsByState``.
    public var openBuckets: Int
    /// The zone budget: ``openBuckets`` never exceeds it.
    public var zoneBudget: Int
    /// Budget available to user write points.
    public var userZoneBudget: Int
    /// Live dirty sectors.
    public var dirtySectors: Int
    /// Live cached sectors.
    public var cachedSectors: Int
    /// Sectors still writable in free and open buckets.
    public var freeSectors: Int
    /// Written sectors that hold nothing live (reclaimable by reset or copygc).
    public var fragmentedSectors: Int
    /// Capacity users may fill: total minus the copygc reserve.
    public var usableSectors: Int
    /// Histogram of non-open buckets holding data by live fraction, 10 bins: bin i counts
    /// buckets whose live sectors are in [i/10, (i+1)/10) of capacity (bin 9 includes full).
    public var fragmentationHistogram: [Int]
    /// Zone resets performed.
    public var resets: Int
    /// Zone finishes performed.
    public var finishes: Int
    /// Sectors wasted by finishing partially written zones.
    public var finishWasteSectors: Int
    /// Cached-only buckets invalidated.
    public var invalidations: Int
}
