/// The allocator state's record of one write point: what it serves and the bucket it fills.
/// (Its fast-path state is a ``WritePointCursor``; its hints are in the ``WritePointDirectory``.)
struct WritePointRecord: Sendable, Hashable {
    /// What the write point serves.
    var kind: WritePoint.Kind
    /// The bucket being filled.
    var openBucket: BucketIndex?
}
