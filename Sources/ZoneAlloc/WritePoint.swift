/// A write point (bcachefs's `write_point`): a stream of writes with at most one open bucket.
/// Unrelated streams use different write points, so their data lands in different buckets.
struct WritePoint: Sendable, Hashable {
    /// What the write point serves.
    enum Kind: Sendable, Hashable {
        case user
        case copygc
        case metadata
    }

    var kind: Kind
    /// The bucket being filled.
    var openBucket: BucketIndex?
    /// Logical time of the last allocation (for least-recently-used stealing).
    var lastUsed: UInt64 = 0
    /// The hints currently mapped here.
    var hints: Set<WriteHint> = []
}
