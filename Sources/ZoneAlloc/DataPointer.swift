/// A pointer to data in a bucket: bcachefs's `bch_extent_ptr` for zones.
///
/// Offsets and lengths are in 512-byte sectors from the start of the bucket (its zone). The
/// pointer is live only while ``generation`` equals the bucket's generation; after the zone is
/// reset it is stale (``BucketAllocator/isStale(_:)``).
public struct DataPointer: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Size of a sector in bytes.
    public static let sectorSize = 512

    /// The bucket (zone) holding the data.
    public var bucket: BucketIndex
    /// First sector of the data, counted from the start of the bucket.
    public var offset: UInt32
    /// Length in sectors.
    public var sectors: UInt32
    /// The bucket's generation when the data was written.
    public var generation: BucketGeneration
    /// Cached data may be dropped by the allocator (invalidation), dirty data may not.
    public var isCached: Bool
    /// A checksum of the data, filled in by the layer that knows the bytes (0 when unused).
    public var checksum: UInt32

    /// Creates a pointer.
    public init(
        bucket: BucketIndex,
        offset: UInt32,
        sectors: UInt32,
        generation: BucketGeneration,
        isCached: Bool = false,
        checksum: UInt32 = 0
    ) {
        self.bucket = bucket
        self.offset = offset
        self.sectors = sectors
        self.generation = generation
        self.isCached = isCached
        self.checksum = checksum
    }

    /// Length in bytes.
    public var byteCount: Int { Int(sectors) * Self.sectorSize }

    public var description: String {
        "\(bucket):\(offset)+\(sectors) \(generation)\(isCached ? " cached" : "")"
    }
}
