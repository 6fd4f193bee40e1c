/// How a ``BucketAllocator`` divides a device.
///
/// **Zone budget.** The budget is the smaller of the device's max open and max active zones
/// (``defaultZoneLimit`` when both are unknown or unlimited), at most the number of buckets.
/// ``metadataZoneSlots`` and ``copygcZoneSlots`` of it are reserved for the metadata and copygc
/// write points; the rest are the user write points (one open bucket each, shared least-recently
/// used when hints outnumber them). A class with 0 reserved slots shares the user slots.
///
/// **Held-back buckets (watermarks).** Normal allocations leave one free bucket per metadata and
/// copygc zone slot — exactly what those write points need to open a bucket each, so copygc can
/// always start evacuating a victim and metadata can always commit. Copygc allocations leave the
/// metadata slots' buckets. Holding more would only keep buckets empty that copygc could use as
/// over-provisioning (zoned buckets are few and large: every bucket held empty raises write
/// amplification), so unlike bcachefs's `nbuckets / 64` the count does not grow with the device.
///
/// **Usable capacity.** Users may store `total − max(copygcReserve × total, held-back buckets)`
/// sectors of live (dirty) data, rounded down to the logical block (as bcachefs's
/// `bch2_recalc_capacity` takes the larger of the gc reserve and what the allocator holds back),
/// so the capacity reported to users can actually be filled.
public struct AllocatorConfiguration: Sendable, Hashable, Codable {
    /// Fraction of bucket capacity held back from users as the copygc reserve (bcachefs's
    /// `gc_reserve_percent`): default 8 %, 5–21 % allowed. Live data beyond the usable capacity,
    /// `total × (1 − copygcReserve)` (less when the held-back buckets are more), is refused.
    public var copygcReserve: Double
    /// Zone slots (open / active zones) held for the metadata write point; also the number of
    /// free buckets normal and copygc allocations leave for metadata.
    public var metadataZoneSlots: Int
    /// Zone slots held for the copygc write point; also the number of free buckets normal
    /// allocations leave for copygc.
    public var copygcZoneSlots: Int
    /// Open-zone cap used when the device reports no limit or an unknown one.
    public var defaultZoneLimit: Int
    /// How long an allocation waits, in seconds, for copygc to free a bucket (or for writes in
    /// flight to release a zone slot) before failing with `.timedOut`.
    public var allocationWaitLimit: Double

    /// Creates a configuration with bcachefs-like defaults.
    public init(
        copygcReserve: Double = 0.08,
        metadataZoneSlots: Int = 1,
        copygcZoneSlots: Int = 1,
        defaultZoneLimit: Int = 16,
        allocationWaitLimit: Double = 10
    ) {
        self.copygcReserve = copygcReserve
        self.metadataZoneSlots = metadataZoneSlots
        self.copygcZoneSlots = copygcZoneSlots
        self.defaultZoneLimit = defaultZoneLimit
        self.allocationWaitLimit = allocationWaitLimit
    }

    /// The allowed range of ``copygcReserve``.
    public static let copygcReserveRange: ClosedRange<Double> = 0.05...0.21
}
