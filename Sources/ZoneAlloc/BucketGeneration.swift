/// A bucket generation: incremented every time the bucket's zone is reset, so a data pointer
/// that carries an older generation is stale without anyone finding and deleting it.
///
/// Width: 8 bits, as bcachefs (`u8 gen`). Comparison is serial-number arithmetic (bcachefs's
/// `gen_cmp(a, b) = (s8)(a - b)`), valid while two generations are less than 128 apart. The
/// allocator keeps that true the way bcachefs does: a bucket whose generation has moved
/// ``BucketGeneration/maxDistanceToOldest`` (96) past the oldest generation any live pointer may
/// still carry is not reused until the pointer holders report their oldest generations again
/// (``BucketAllocator/updateOldestGenerations(_:)``, bcachefs's `gc_gens`). 8 bits keeps data
/// pointers small (the store keeps one per extent); zones are reset rarely, so the rule almost
/// never blocks a bucket.
///
/// Not `Comparable`: the wrapping order is not total. Use ``isAfter(_:)`` and ``distance(from:)``.
public struct BucketGeneration: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible {
    /// The generation value (wraps from 255 to 0).
    public var rawValue: UInt8

    /// Creates a generation.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// bcachefs's `BUCKET_GC_GEN_MAX`: how far a bucket's generation may run ahead of the oldest
    /// generation a live pointer into it may carry.
    public static let maxDistanceToOldest = 96

    /// The next generation (wrapping).
    public var next: BucketGeneration { BucketGeneration(rawValue: rawValue &+ 1) }

    /// `gen_cmp`: the signed distance `self − other`, valid when |distance| < 128.
    public func distance(from other: BucketGeneration) -> Int {
        Int(Int8(bitPattern: rawValue &- other.rawValue))
    }

    /// `gen_after(self, other) > 0`: whether `self` is newer than `other`.
    public func isAfter(_ other: BucketGeneration) -> Bool { distance(from: other) > 0 }

    public var description: String { "gen \(rawValue)" }
}
