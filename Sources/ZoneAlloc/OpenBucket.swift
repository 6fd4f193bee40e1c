/// A bucket being written (bcachefs's `open_bucket`). Every open bucket is an open or active
/// zone on the device, so their number is bounded by the zone budget — including buckets that
/// left their write point but still have writes in flight or a finish pending.
///
/// Life cycle: owned by a write point while it is filled; then either *retiring* (it left its
/// write point: full, or to be finished) until its last in-flight reservation is committed or
/// abandoned, or *unowned* (partially written, waiting to be adopted by a write point of its
/// class, as bcachefs's partial list).
///
/// Zone slots: a write point's chain of buckets (the one it owns and the full ones it left with
/// writes still in flight) uses one slot; every other open bucket (unowned partial, to be
/// finished) uses one slot of its own.
struct OpenBucket: Sendable, Hashable {
    /// The bucket.
    var bucket: BucketIndex
    /// The budget class whose zone slots this bucket uses.
    var kind: WritePoint.Kind
    /// The write point using it, or nil when unowned or retiring.
    var writePoint: Int?
    /// The write point whose reservations fill it, in order, while it is owned or retiring
    /// full. Buckets of one chain share one zone slot: reservations through a write point are
    /// written in reservation order, so a full bucket's last write lands (and its zone turns
    /// FULL) before the next bucket of the chain is written (and its zone opens).
    var chain: Int?
    /// Left its write point; leaves the open set (or is finished) once nothing is in flight.
    var retiring = false
    /// When idle, finish the zone even if not full: a write to it failed (the device write
    /// pointer may be behind the allocator's), or its write point gave it up with writes in
    /// flight.
    var finishWhenIdle = false
    /// A finish of its zone was handed to a caller and has not completed yet.
    var finishing = false
    /// Reservations handed out and not yet committed or abandoned. While the owning write
    /// point's cursor is attached, the cursor keeps the count and this copy is stale (see
    /// ``WritePointCursor``).
    var inFlight = 0
}
